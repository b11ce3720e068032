"""``polku templates``: lint the message templates and preview one rendered message."""

from __future__ import annotations

import json
from pathlib import Path

from polku.messaging.message_context import TEMPLATE_VARIABLES
from polku.messaging.templating import (
    CHANNEL_PARTS,
    DEFAULT_LOCALE,
    TemplateRenderError,
    TemplateStore,
    iter_template_paths,
    render_file,
)

def register(sub) -> None:
    p = sub.add_parser("templates", help="lint message templates or preview a rendered message")
    tsub = p.add_subparsers(dest="templates_command", metavar="ACTION")

    lint = tsub.add_parser("lint", help="check every template: syntax, unknown variables, every channel and locale "
                           "renders, and every Send step of the shipped journeys (stage, variant) renders")
    lint.add_argument("--dir", default=None, help="templates folder (default: ./templates or the repository's)")
    lint.set_defaults(func=run_lint)

    render = tsub.add_parser("render", help="print one rendered message (subject, text, HTML) for preview")
    render.add_argument("name_or_path", metavar="NAME_OR_PATH", help="a message name (e.g. welcome) or a template file")
    render.add_argument("--context", required=True, metavar="FILE.json", help="customer, products, offer, data, editable")
    render.add_argument("--channel", choices=sorted(CHANNEL_PARTS), default="email")
    render.add_argument("--locale", default=None, help="e.g. fi, cs, en (falls back to en)")
    render.add_argument("--dir", default=None, help="templates folder (default: ./templates or the repository's)")
    render.set_defaults(func=run_render)
    p.set_defaults(func=lambda args: p.print_help() or 2)


def _store(folder: str | None) -> TemplateStore:
    from polku.cli.main import CliError
    from polku.messaging.wiring import repo_templates_dir

    candidates = [Path(folder)] if folder else [Path.cwd() / "templates", repo_templates_dir()]
    for c in candidates:
        if (c / "_layouts").is_dir():
            return TemplateStore(c)
    raise CliError(f"no templates folder with _layouts/ at {', '.join(str(c) for c in candidates)}")


def _load_json(path: Path) -> dict:
    from polku.cli.main import CliError

    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise CliError(f"{path}: no such file") from None
    except json.JSONDecodeError as exc:
        raise CliError(f"{path}: not valid JSON ({exc.msg} at line {exc.lineno})") from None
    if not isinstance(value, dict):
        raise CliError(f"{path}: must hold a JSON object")
    return value


def preview_context(sample: dict) -> dict:
    from polku.journeys.content import preview_context as build

    return build(sample)


def _sample_for(store: TemplateStore, name: str) -> dict:
    from polku.cli.main import CliError
    from polku.journeys.content import sample_for

    try:
        return sample_for(store.root, name)
    except json.JSONDecodeError as exc:
        raise CliError(f"{store.root / '_samples'}: {name}: not valid JSON ({exc.msg} at line {exc.lineno})") from None
    except ValueError as exc:
        raise CliError(str(exc)) from None


def journey_steps_lint(store: TemplateStore) -> tuple[list[str], list[str]]:
    """(errors, notes): every template rendered for every Send step of the shipped journeys that
    uses it (its stage, offer, each A/B variant, channel and locale), as the Send step renders it."""
    from polku.journeys import registry
    from polku.journeys.content import render_all

    try:
        reg = registry.load()
    except registry.RegistryError as exc:
        return [f"statemachines/registry.yaml: {exc}"], []
    folder = Path(reg.path).resolve().parent  # the packaged registry is a link to statemachines/
    if not any(folder.glob("*.asl.json")):
        return [], [f"journey steps: no definitions beside {reg.path}; not checked"]
    m = render_all(store, reg, folder)
    errors = list(m.errors)
    errors += [f"{r.step.journey}/{r.step.state} (stage {r.step.stage}, variant {r.variant}): messages/{r.template}/"
               f"{r.locale}: {r.channel}: {r.error}" for r in m.renderings if r.error]
    steps = {(r.step.journey, r.step.state) for r in m.renderings}
    notes = [f"journey steps: {len(steps)} Send steps of {len(reg.journeys)} journeys, {len(m.renderings)} renderings "
             "(step x variant x channel x locale)"]
    return errors, notes


def lint(store: TemplateStore) -> tuple[list[str], list[str]]:
    """(errors, notes) for every message template in the store."""
    from jinja2 import meta, nodes

    errors: list[str] = []
    notes: list[str] = []
    all_locales = set()
    names = store.message_names()
    for name in names:
        all_locales.update(store.locales(name))
    for name, loc, path in iter_template_paths(store):
        source = (store.root / path).read_text(encoding="utf-8")
        try:
            ast = store.html_env.parse(source, name=path, filename=str(store.root / path))
        except Exception as exc:  # TemplateSyntaxError
            errors.append(f"{path}:{getattr(exc, 'lineno', '?')}: syntax error: {getattr(exc, 'message', exc)}")
            continue
        imported = {n.target for n in ast.find_all(nodes.Import)}
        for n in ast.find_all(nodes.FromImport):
            imported.update(alias if isinstance(alias, str) else alias[1] for alias in n.names)
        unknown = sorted(meta.find_undeclared_variables(ast) - TEMPLATE_VARIABLES - imported)
        for var in unknown:
            line = next((n.lineno for n in ast.find_all(nodes.Name) if n.name == var), "?")
            errors.append(f"{path}:{line}: variable {var!r} is not provided to templates (known: customer, products, "
                          "offer, data, brand, links, message, track, editable)")
        editable = sorted({c.args[0].value for c in ast.find_all(nodes.Call)
                           if isinstance(c.node, nodes.Name) and c.node.name == "editable"
                           and c.args and isinstance(c.args[0], nodes.Const)})
        channels = store.channels_of_path(path)
        if not channels:
            errors.append(f"{path}: defines no channel (needs a non-empty html, sms or push_body block)")
        ctx = preview_context(_sample_for(store, name))
        for channel in channels:
            try:
                store.render_path(path, ctx, channel=channel, template_name=name, locale=loc)
            except TemplateRenderError as exc:
                errors.append(f"{path}: {channel}: {exc}")
        notes.append(f"{path}: channels {', '.join(channels) or '-'}; editable blocks {', '.join(editable) or '-'}")
    for name in names:
        locales = set(store.locales(name))
        if DEFAULT_LOCALE not in locales:
            errors.append(f"messages/{name}: no {DEFAULT_LOCALE}.j2 (the fallback locale)")
        missing = sorted(all_locales - locales)
        if missing:
            notes.append(f"messages/{name}: {', '.join(missing)} fall back to {DEFAULT_LOCALE}")
    return errors, notes


def run_lint(args) -> int:
    store = _store(args.dir)
    errors, notes = lint(store)
    step_errors, step_notes = journey_steps_lint(store)  # as the shipped journeys' Send steps use them
    errors += step_errors
    notes += step_notes
    for n in notes:
        print(n)
    for e in errors:
        print(f"ERROR {e}")
    count = sum(1 for _ in iter_template_paths(store))
    print(f"{count} templates, {len(errors)} error(s)")
    return 1 if errors else 0


def run_render(args) -> int:
    from polku.cli.main import CliError

    store = _store(args.dir)
    ctx = preview_context(_load_json(Path(args.context)))
    target = Path(args.name_or_path)
    try:
        if target.suffix or target.is_file() or "/" in args.name_or_path:
            out = render_file(target, ctx, channel=args.channel, store=store)
        else:
            out = store.render(args.name_or_path, ctx, channel=args.channel, locale=args.locale)
    except TemplateRenderError as exc:
        raise CliError(str(exc)) from None
    print(f"Template: {out.template} ({out.locale}, {out.channel})")
    if args.channel == "email":
        print(f"Subject: {out.subject}")
        print(f"Preheader: {out.parts.get('preheader', '')}")
        print("\n----- text -----")
        print(out.text)
        print("----- html -----")
        print(out.html)
    else:
        for part, value in out.parts.items():
            print(f"{part}: {value}")
    return 0
