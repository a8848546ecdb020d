"""Talking to CouchDB: the one HTTP client (client.py), what every database is called
(names.py) and the design documents fieldsync installs (design.py, built from the ES5 sources in
design/). Nothing else in fieldsync opens a connection to CouchDB."""
