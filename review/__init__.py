"""review: systematic reviews from search exports to a PRISMA 2020 diagram.

The package is organised as the review's pipeline: ``io`` (import/export),
``dedup``, ``screening``, ``extraction``, ``synthesis``, ``report``, with
``store`` (the project database), ``app`` (Streamlit pages) and ``cli`` as thin
shells around those pure stage functions.
"""

__version__ = "0.1.0"
