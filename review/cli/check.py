"""``review check``: is the review's database consistent (after a crash, a restore, a migration)?"""

from __future__ import annotations

from rich.table import Table

from review.cli.app import DbOption, app, console, fail


@app.command()
def check(db: DbOption = None) -> None:
    """Check a review's rows: whole imports, straight duplicate links, decisions landed once.

    Exits with status 1 and lists the problems (with the rows behind each) if
    any rule is broken; prints "no problems" otherwise.
    """
    from review.cli.project import open_review
    from review.integrity import check_review

    store = open_review(db)
    try:
        problems = check_review(store)
    finally:
        store.close()
    if not problems:
        console.print(f"No problems found in {store.url}.")
        return
    t = Table(title=f"{len(problems)} problem(s)")
    t.add_column("check")
    t.add_column("what is wrong")
    for p in problems:
        t.add_row(p.check, p.message)
    console.print(t)
    raise fail(f"the review has {len(problems)} consistency problem(s); see the table above")
