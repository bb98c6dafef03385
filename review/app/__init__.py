"""The Streamlit screening app's pages and widgets (entry point: ``screening_app.py``)."""
