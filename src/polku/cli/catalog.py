"""``polku catalog``: import products (validated; bad rows reported by line and field, good rows
kept) and produce the synthetic demo catalogue for the Instacart sample."""

from __future__ import annotations

import csv
import json
import sys


def register(sub) -> None:
    p = sub.add_parser("catalog", help="product catalogue: import, demo")
    cs = p.add_subparsers(dest="catalog_command", metavar="ACTION")
    imp = cs.add_parser("import", help="import products from a CSV or JSON file")
    imp.add_argument("file", metavar="FILE")
    imp.add_argument("--dry-run", action="store_true", help="validate only; write nothing")
    imp.add_argument("--json", action="store_true", help="print the result as JSON")
    imp.set_defaults(func=import_cmd)
    demo = cs.add_parser("demo", help="synthetic catalogue (made-up names, categories, prices) for the product "
                         "ids of an interactions CSV such as the Instacart sample")
    demo.add_argument("--data", required=True, metavar="FILE.csv", help="interactions CSV (or .csv.gz)")
    demo.add_argument("--item-col", default="product_id")
    demo.add_argument("--out", metavar="FILE.csv", help="write the catalogue CSV here instead of importing it")
    demo.add_argument("--base-url", default="https://shop.example")
    demo.set_defaults(func=demo_cmd)
    p.set_defaults(func=lambda args: (p.print_help(), 2)[1])


def _save(args, products):
    from polku.cli.main import CliError
    from polku.cli.target import Target, TargetError
    from polku.data import catalog

    try:
        Target.from_args(args).use()
    except TargetError as exc:
        raise CliError(str(exc)) from None
    return catalog.save_products(products)



def import_cmd(args) -> int:
    from polku.cli.main import CliError
    from polku.recommend.catalog import CatalogFileError, read_file

    try:
        result = read_file(args.file)
    except CatalogFileError as exc:
        raise CliError(str(exc)) from None
    saved = 0 if args.dry_run or not result.products else _save(args, result.products)
    if args.json:
        print(json.dumps({"imported": saved, "valid": len(result.products),
                          "errors": [e.__dict__ for e in result.errors]}, indent=2))
    else:
        for e in result.errors:
            print(f"{args.file}: {e}", file=sys.stderr)
        verb = "valid (dry run, nothing written)" if args.dry_run else "imported"
        print(f"{len(result.products) if args.dry_run else saved} products {verb}; {len(result.errors)} problem(s)")
    return 1 if result.errors else 0


def demo_cmd(args) -> int:
    from pathlib import Path

    from polku.cli.main import CliError
    from polku.recommend.catalog import demo_catalog, write_csv
    from polku.recommend.interactions import open_csv

    path = Path(args.data)
    if not path.is_file():
        raise CliError(f"--data {path}: no such file")
    with open_csv(path) as f:
        reader = csv.DictReader(f)
        if args.item_col not in (reader.fieldnames or []):
            raise CliError(f"--item-col {args.item_col!r} is not a column of {path.name}")
        ids = [row[args.item_col] for row in reader if row.get(args.item_col)]
    products = demo_catalog(ids, args.base_url)
    if args.out:
        with open(args.out, "w", newline="", encoding="utf-8") as out:
            write_csv(products, out)
        print(f"{len(products)} synthetic demo products written to {args.out} (names, categories and prices are made up)")
        return 0
    saved = _save(args, products)
    print(f"{saved} synthetic demo products imported (names, categories and prices are made up)")
    return 0
