"""Training recipes for the built-in supernets (run by `linas train <supernet>`)."""
