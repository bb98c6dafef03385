"""The review's browser app: ``streamlit run screening_app.py -- --db PATH_OR_URL``.

A thin entry point: the app itself is :mod:`review.app.shell` (which ships inside the
package, so ``review app --db ...`` starts the same app from an installed wheel). Without
``--db`` the app opens ``$REVIEW_DATABASE_URL``, else ``./review.db``, like every command.
"""

from review.app.shell import run

# Streamlit runs this file as __main__; a helper process started with "spawn" re-imports it
# as __mp_main__, and must not run the app.
if __name__ == "__main__":
    run()
