"""``polku recommend``: train and publish a model, show the current one, ask the recommend
function, and evaluate Polku against baselines on any interactions CSV."""

from __future__ import annotations

import json
import sys


def register(sub) -> None:
    p = sub.add_parser("recommend", help="recommendations: train, evaluate, show, ask")
    rs = p.add_subparsers(dest="recommend_command", metavar="ACTION")

    ev = rs.add_parser("evaluate", help="offline evaluation of Polku vs baselines on any interactions CSV")
    _csv_flags(ev, required=True)
    ev.add_argument("--protocol", choices=["last-basket", "last-n"], default="last-basket")
    ev.add_argument("--n", type=int, default=10, help="held-out interactions per user for last-n (default 10)")
    ev.add_argument("--k", type=int, default=10, help="list length K (default 10)")
    ev.add_argument("--exclude-seen", action="store_true", help="new items only: leave out what the user already had")
    ev.add_argument("--min-count", type=int, default=5, help="items seen fewer times are not candidates (default 5)")
    ev.add_argument("--dim", type=int, default=64, help="embedding dimensions (default 64)")
    ev.add_argument("--max-users", type=int, default=20000, help="evaluate a fixed random sample of at most this many users")
    ev.add_argument("--json", action="store_true", help="print a JSON list, one object per model")
    ev.set_defaults(func=evaluate_cmd)

    tr = rs.add_parser("train", help="train on the target's events (or a CSV) and publish to its models bucket")
    _csv_flags(tr, required=False)
    tr.add_argument("--force", action="store_true", help="publish even if the evaluation is worse than the current model's")
    tr.add_argument("--json", action="store_true")
    tr.set_defaults(func=train_cmd)

    sh = rs.add_parser("show", help="the current model's manifest")
    sh.set_defaults(func=show_cmd)

    ask = rs.add_parser("ask", help="call the recommend function")
    ask.add_argument("strategy", choices=["also_bought", "for_customer", "similar", "category_favourites", "viewed_not_bought"])
    ask.add_argument("--product-id")
    ask.add_argument("--customer-id")
    ask.add_argument("--k", type=int, default=4)
    ask.add_argument("--exclude-purchased", action="store_true")
    ask.set_defaults(func=ask_cmd)
    p.set_defaults(func=lambda args: (p.print_help(), 2)[1])


def _csv_flags(p, required: bool) -> None:
    p.add_argument("--interactions", metavar="FILE.csv", required=required, help="interactions CSV")
    p.add_argument("--user-col", default=None, help="column with the user id")
    p.add_argument("--item-col", default=None, help="column with the item id")
    p.add_argument("--time-col", default=None, help="column that orders interactions (number or ISO time)")
    p.add_argument("--basket-col", default=None, help="column with the basket/order id")
    p.add_argument("--weight-col", default=None, help="column with an interaction strength")


def _read(args):
    from polku.cli.main import CliError
    from polku.recommend.interactions import InteractionsError, read_csv

    if not args.user_col or not args.item_col:
        raise CliError("--interactions needs --user-col and --item-col")
    try:
        return read_csv(args.interactions, args.user_col, args.item_col, args.time_col, args.basket_col, args.weight_col)
    except InteractionsError as exc:
        raise CliError(str(exc)) from None


def evaluate_cmd(args) -> int:
    from polku.cli.main import CliError
    from polku.recommend.evaluate import evaluate
    from polku.recommend.training import TrainingConfig

    if args.k < 1:
        raise CliError("--k must be at least 1")
    if args.protocol == "last-basket" and not (args.basket_col or args.time_col):
        raise CliError("--protocol last-basket needs --basket-col or --time-col (which rows form the last basket)")
    inter = _read(args)
    try:
        report = evaluate(inter, args.protocol, k=args.k, n=args.n, exclude_seen=args.exclude_seen,
                          config=TrainingConfig(dim=args.dim, min_count=args.min_count), max_users=args.max_users)
    except ValueError as exc:
        raise CliError(f"cannot evaluate: {exc}") from None
    k = args.k
    rows = []
    for r in report["results"]:
        row = {"model": r["model"], f"hr@{k}": r[f"hr@{k}"], f"recall@{k}": r[f"recall@{k}"],
               f"ndcg@{k}": r[f"ndcg@{k}"], "coverage": r["coverage"], "users": r["users"]}
        if r["model"] == "polku":
            row.update(report["index"])
        rows.append(row)
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    s = report["split"]
    print(f"{args.protocol}{' n=' + str(args.n) if args.protocol == 'last-n' else ''}, K={k}, "
          f"{'new items only' if args.exclude_seen else 'repeats allowed'}: {s['users']} users, "
          f"{s['candidates']} candidate items, {s['train_interactions']} training interactions")
    print(f"{'model':26s} {'HR@' + str(k):>8s} {'Recall@' + str(k):>10s} {'NDCG@' + str(k):>9s} {'coverage':>9s}")
    for r in rows:
        print(f"{r['model']:26s} {r[f'hr@{k}']:8.4f} {r[f'recall@{k}']:10.4f} {r[f'ndcg@{k}']:9.4f} {r['coverage']:9.4f}")
    ix = report["index"]
    if ix:
        print(f"Annoy recall@{k} vs exact: {ix[f'annoy_recall@{k}']:.4f}; query p50 {ix['query_ms_p50']:.3f} ms, "
              f"p99 {ix['query_ms_p99']:.3f} ms ({ix['queries']} queries, {ix['items']} items)")
    return 0


def _target(args):
    from polku.cli.main import CliError
    from polku.cli.target import Target, TargetError

    try:
        target = Target.from_args(args)
    except TargetError as exc:
        raise CliError(str(exc)) from None
    return target, target.use()


def train_cmd(args) -> int:
    from polku import clock
    from polku.data import catalog
    from polku.data import events as event_table
    from polku.recommend.customer_history import WEIGHTS, interactions_from_events
    from polku.recommend.model_store import ModelStore
    from polku.recommend.pipeline import run_training

    target, settings = _target(args)
    if args.interactions:
        inter = _read(args)
    else:
        inter = interactions_from_events(event_table.all_events(set(WEIGHTS)))
    if len(inter) == 0:
        from polku.cli.main import CliError

        raise CliError("no interactions to train on (no product views, carts or purchases yet)")
    outcome = run_training(inter, ModelStore(target.client("s3"), settings.models_bucket), clock.now_iso(),
                           catalog=catalog.all_content(), force=args.force)
    if args.json:
        print(json.dumps(outcome.as_dict(), indent=2, default=str))
    else:
        ev = outcome.manifest.get("evaluation", {})
        print(f"model {outcome.version}: {outcome.manifest.get('item_count')} items, "
              f"{outcome.manifest.get('dimensions')} dimensions; holdout HR@10 {ev.get('hr@10', 'n/a')}")
        print(f"{'published: current is now ' + outcome.version if outcome.published else 'NOT published: ' + outcome.reason}")
    return 0 if outcome.published else 1


def show_cmd(args) -> int:
    from polku.recommend.model_store import ModelStore

    target, settings = _target(args)
    pointer = ModelStore(target.client("s3"), settings.models_bucket).current()
    if pointer is None:
        print("no model published yet (run `polku recommend train`)")
        return 1
    print(json.dumps({"version": pointer.version, "manifest": pointer.manifest}, indent=2))
    return 0


def ask_cmd(args) -> int:
    from polku.cli.main import CliError

    target, _ = _target(args)
    name = target.outputs.get("RecommendFunctionName")
    if not name:
        raise CliError("the target has no RecommendFunctionName output")
    event = {"strategy": args.strategy, "k": args.k, "exclude_purchased": args.exclude_purchased}
    if args.product_id:
        event["product_id"] = args.product_id
    if args.customer_id:
        event["customer_id"] = args.customer_id
    resp = target.client("lambda").invoke(FunctionName=name, Payload=json.dumps(event).encode())
    body = json.loads(resp["Payload"].read() or b"null")
    print(json.dumps(body, indent=2))
    if resp.get("FunctionError"):
        print(f"polku: recommend failed: {body.get('errorMessage')}", file=sys.stderr)
        return 1
    return 0
