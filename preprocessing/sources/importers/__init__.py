"""Importers of public e-commerce logs into the raw-data contract (README "Raw data"; docs/real_logs.md).

    python -m preprocessing.sources.importers FORMAT SOURCE... [key=value ...]   (what sh scr/import_data.sh runs)

One module per format, each with SETTINGS (its own settings and their defaults) and
read(sources, settings, log), which streams the sources into a log_writer.ImportedLog.
"""
from preprocessing.sources.importers import jdata2017, jdata2019, own_csv, retailrocket, taobao, tmall

FORMATS = {"taobao": taobao, "tmall": tmall, "jdata2017": jdata2017, "jdata2019": jdata2019,
           "retailrocket": retailrocket, "csv": own_csv}
