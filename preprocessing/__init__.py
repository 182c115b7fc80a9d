"""Raw log to processed data. sources/ makes raw logs (importers, demo generator, twin, oracle);
pipeline/ turns one into the processed dataset; raw_data.py and processed_data.py are the two formats
between the stages."""
