"""Raw log to processed dataset: windows, samples, sequences, features, standardisation, item2vec
and splits, run in order by build_dataset."""
