#!/bin/sh
# Creates the data folders; safe to run again.
set -e
cd "$(dirname "$0")/.."
mkdir -p ddata/raw ddata/processed ddata/results
echo "data folders ready under ddata/"
