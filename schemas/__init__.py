"""crossform's JSON Schemas (draft 2020-12), shipped as package data; see schemas/README.md."""
