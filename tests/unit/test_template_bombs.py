"""Growth bombs: templates that try to exhaust time or memory end with the sandbox's clear error.

Each bomb renders in its own process (a hung or exploding render cannot take the test run
with it) under a fixed budget: 10 s of wall time and an address-space ceiling of 1.5 GB
(so a bomb that escapes the sandbox fails with MemoryError here instead of taking the shared
machine's memory). The render must end in TemplateRenderError naming a limit, within the
time, with the process's peak memory (VmHWM) under 400 MB. The first bombs are the
exact reproductions of issues #20 (point 2) and #21 (point 8).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
WALL_SECONDS = 10
ADDRESS_SPACE = 1536 * 1024 * 1024
MAX_RSS_MB = 400

RUNNER = r"""
import json, resource, sys, time, tempfile
from pathlib import Path
resource.setrlimit(resource.RLIMIT_AS, (int(sys.argv[2]), int(sys.argv[2])))
sys.path.insert(0, sys.argv[1] + "/src")
from polku.messaging.message_context import build_context, preview_track
from polku.messaging.templating import TemplateStore, render_file
body = sys.stdin.read()
store = TemplateStore(Path(sys.argv[1]) / "templates")
ctx = build_context(customer={"first_name": "Ann", "email": "ann@example.com"}, products=[], offer=None, data={},
                    brand=None, links={"unsubscribe": "u", "open_pixel": "o"}, message={"id": "m1"}, track=preview_track)
folder = Path(tempfile.mkdtemp())
path = folder / "snippet.j2"
path.write_text('{% extends "_layouts/brand.j2" %}{% block subject %}S{% endblock %}'
                "{% block html %}" + body + "{% endblock %}{% block text %}" + body + "{% endblock %}", encoding="utf-8")
started = time.perf_counter()
try:
    render_file(path, ctx, store=store)
    result = {"error": None, "message": "rendered"}
except BaseException as exc:
    result = {"error": type(exc).__name__, "message": str(exc)[:500]}
result["seconds"] = time.perf_counter() - started
# VmHWM: this process's own peak (ru_maxrss after exec also counts the parent's size at fork on Linux,
# so a big pytest process would make every bomb look big)
result["maxrss_mb"] = next(int(l.split()[1]) for l in open("/proc/self/status") if l.startswith("VmHWM:")) / 1024
print(json.dumps(result))
"""

BOMBS = {
    # issue #20 point 2: `~` doubling (ran 20 s and took 6.2 GB)
    "issue20_concat_doubling": '{% set ns = namespace(s="ab") %}{% for i in range(1000) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}',
    # issue #21 point 8: integer growth, exponential macro fan-out, replace growth
    "issue21_integer_squaring": '{% set ns = namespace(n=3) %}{% for i in range(40) %}{% set ns.n = ns.n * ns.n %}{% endfor %}{{ ns.n }}',
    "issue21_macro_fan_out": "{% macro f(n) %}{% if n > 0 %}{{ f(n - 1) }}{{ f(n - 1) }}{% endif %}{% endmacro %}{{ f(60) }}",
    "issue21_replace_growth": '{% set ns = namespace(s="a" * 1000) %}{% for i in range(40) %}{% set ns.s = ns.s.replace("a", "aa") %}{% endfor %}',
    "plus_doubling": '{% set ns = namespace(s="ab") %}{% for i in range(1000) %}{% set ns.s = ns.s + ns.s %}{% endfor %}',
    "replace_filter_growth": '{% set ns = namespace(s="a" * 1000) %}{% for i in range(40) %}{% set ns.s = ns.s|replace("a", "aaaa") %}{% endfor %}',
    "join_filter_of_repeats": "{{ (['x' * 100000] * 100000)|join }}",
    "join_method_of_repeats": "{{ ''.join(['x' * 100000] * 100000) }}",
    "string_of_repeats": "{{ (['x' * 100000] * 100000)|string }}",
    "print_list_of_repeats": "{{ ['x' * 100000] * 100000 }}",
    "concat_list_of_repeats": "{{ (['x' * 100000] * 100000) ~ '' }}",
    "percent_list_of_repeats": "{{ '%s' % ((['x' * 100000] * 100000),) }}",
    "format_list_of_repeats": "{{ '{}'.format(['x' * 100000] * 100000) }}",
    "list_doubling": "{% set ns = namespace(l=[1]) %}{% for i in range(100) %}{% set ns.l = ns.l + ns.l %}{% endfor %}",
    "nested_list_printed": "{% set ns = namespace(l=['x']) %}{% for i in range(60) %}{% set ns.l = [ns.l, ns.l] %}{% endfor %}{{ ns.l }}",
    "nested_lists_compared": "{% set ns = namespace(a=['x'], b=['x']) %}{% for i in range(60) %}"
                             "{% set ns.a = [ns.a, ns.a] %}{% set ns.b = [ns.b, ns.b] %}{% endfor %}{{ ns.a == ns.b }}",
    "nested_dict_as_json": "{% set ns = namespace(d={}) %}{% for i in range(60) %}{% set ns.d = dict(a=ns.d, b=ns.d) %}{% endfor %}"
                           "{{ ns.d|tojson }}",
    "list_append_self": "{% set l = [1] %}{% for i in range(1000) %}{{ l.extend(l) }}{% endfor %}",
    "dict_update_growth": "{% set d = {} %}{% for i in range(1000) %}{% for j in range(9) %}{{ d.update({i * 9 + j: 'x' * 90000}) }}"
                          "{% endfor %}{% endfor %}{{ d|length }}",
    "indent_many_lines": "{{ ('\\n' * 99999)|indent(1000) }}",
    "expandtabs": "{{ ('\\t' * 100000).expandtabs(9000)|length }}",
    "center_method": "{{ 'x'.center(999999999) }}",
    "ljust_method": "{{ 'x'.ljust(999999999) }}",
    "zfill_method": "{{ '1'.zfill(999999999) }}",
    "star_width": "{{ '%*d' % (999999999, 1) }}",
    "batch_fill": "{{ [1]|batch(999999999, 'x')|list }}",
    "slice_count": "{{ [1]|slice(99999999)|list }}",
    "sum_of_lists": "{{ ([[1] * 9] * 9000)|sum(start=[])|length }}",
    "macro_buffer": "{% set big = 'x' * 100000 %}{% macro m() %}{% for i in range(1000) %}{% for j in range(8) %}{{ big }}"
                    "{% endfor %}{% endfor %}{% endmacro %}{{ m()|length }}",
    "set_block_doubling": "{% set ns = namespace(s='ab') %}{% for i in range(60) %}{% set s %}{{ ns.s }}{{ ns.s }}{% endset %}"
                          "{% set ns.s = s %}{% endfor %}",
    "filter_block_buffer": "{% set big = 'x' * 100000 %}{% filter length %}{% for i in range(1000) %}{% for j in range(9) %}{{ big }}"
                           "{% endfor %}{% endfor %}{% endfilter %}",
    "sort_work": "{% for i in range(1000) %}{% for j in range(9) %}{% set _ = (['b', 'a'] * 49999)|sort %}{% endfor %}{% endfor %}",
    "concat_work": "{% set big = 'x' * 90000 %}{% for i in range(1000) %}{% for j in range(9) %}{% set _ = big ~ j %}"
                   "{% endfor %}{% endfor %}",
    "macro_fan_out_shallow": "{% macro f(n) %}{% if n > 0 %}{{ f(n - 1) }}{{ f(n - 1) }}{% endif %}{% endmacro %}{{ f(25) }}",
    "int_filter_digits": "{{ ('9' * 4000)|int * 2 }}",
    "macro_recursion": "{% macro r() %}{{ r() }}{% endmacro %}{{ r() }}",
    "include_itself": '{% include "__preview__/snippet.j2" %}',
    "deep_expression": "{{ " + "(" * 3000 + "1" + ")" * 3000 + " }}",
    "long_loop_text": "{% macro m() %}{% for i in range(1000) %}{% for j in range(9) %}" + "y" * 100000
                      + "{% endfor %}{% endfor %}{% endmacro %}{{ m()|length }}",
}


def run_bomb(body: str) -> dict:
    proc = subprocess.run([sys.executable, "-c", RUNNER, str(REPO), str(ADDRESS_SPACE)], input=body, capture_output=True,
                          text=True, timeout=WALL_SECONDS + 5)
    lines = proc.stdout.strip().splitlines()
    assert lines, f"the render process died: {proc.stderr[-2000:]}"
    return json.loads(lines[-1])


@pytest.mark.parametrize("name", sorted(BOMBS))
def test_a_growth_bomb_ends_in_the_sandboxs_clear_error_within_time_and_memory(name):
    try:
        result = run_bomb(BOMBS[name])
    except subprocess.TimeoutExpired:
        pytest.fail(f"{name}: still rendering after {WALL_SECONDS} s")
    assert result["error"] == "TemplateRenderError", result
    assert "snippet.j2" in result["message"] and ("limit" in result["message"] or "sandbox" in result["message"]), result
    assert result["seconds"] < WALL_SECONDS, result
    assert result["maxrss_mb"] < MAX_RSS_MB, result


def test_memory_and_recursion_errors_become_the_sandboxs_clear_error(tmp_path):
    """A resource error raised anywhere in a render (here by a filter) is the store's
    TemplateRenderError naming the template and line, never a raw MemoryError/RecursionError."""
    import shutil

    from polku.messaging.message_context import build_context, preview_track
    from polku.messaging.templating import TemplateRenderError, TemplateStore

    root = tmp_path / "templates"
    shutil.copytree(REPO / "templates" / "_layouts", root / "_layouts")
    (root / "messages" / "boom").mkdir(parents=True)
    (root / "messages" / "boom" / "en.j2").write_text(
        '{% extends "_layouts/brand.j2" %}{% block subject %}S{% endblock %}\n{% block html %}\n{{ 1|exhausted }}{% endblock %}'
        "{% block text %}{{ 1|exhausted }}{% endblock %}", encoding="utf-8")
    ctx = build_context(customer={"first_name": "Ann"}, products=[], offer=None, data={}, brand=None,
                        links={"unsubscribe": "u", "open_pixel": "o"}, message={"id": "m1"}, track=preview_track)
    for error in (MemoryError, RecursionError):
        store = TemplateStore(root)

        def exhausted(value, error=error):
            raise error()

        for env in (store.html_env, store.text_env):
            env.filters["exhausted"] = exhausted
        with pytest.raises(TemplateRenderError, match=r"messages/boom/en.j2:3: over a resource limit of the sandbox") as err:
            store.render("boom", ctx, channel="email", locale="en")
        assert err.value.template == "messages/boom/en.j2" and err.value.line == 3
