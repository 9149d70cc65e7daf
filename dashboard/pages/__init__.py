"""One module per view: its layout (built from the URL's query) and the callbacks it owns."""
