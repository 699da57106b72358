"""Stage: the run report. `report.html` in the run dir (self-contained: plots are inline PNGs, so
it opens offline) and the same per-round summary as a terminal table. It reads only the loop's
per-round records (the step markers), so it can be rebuilt from any finished or resumed run."""

from __future__ import annotations

import base64
import html
import io
from collections.abc import Callable
from pathlib import Path
from typing import Any

Record = dict[str, Any]


def _evaluations(history: list[Record]) -> list[tuple[str, Record]]:
    """(label, evaluation) in order: round 0's baseline, then each round's post-training eval."""
    out = []
    for record in history:
        if "baseline" in record:
            out.append(("base", record["baseline"]))
        if "eval" in record:
            out.append((f"r{record['round']}", record["eval"]))
    return out


def _mean(values: list[float]) -> float | None:
    return sum(values) / len(values) if values else None


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value:.1%}"


def loop_table(history: list[Record]) -> str:
    """One row per round: data made and kept, training reward, evaluation after the round."""
    lines = [f"{'round':<7}{'episodes':>9}{'plans ok':>9}{'policy':>7}{'hard':>5}{'GRPO reward':>12}"
             f"{'BFCL mean':>10}{'BFCL V4':>9}{'irrel.':>8}{'must-call':>10}{'held-out':>9}  assistant"]  # fmt: skip
    evaluations = dict(_evaluations(history))
    if "base" in evaluations:
        lines.append(_row("base", None, evaluations["base"]))
    for record in history:
        lines.append(_row(str(record["round"]), record, evaluations.get(f"r{record['round']}")))
    return "\n".join(lines)


def _row(label: str, record: Record | None, evaluation: Record | None) -> str:
    synth = (record or {}).get("synthesize", {})
    rewards = (record or {}).get("train", {}).get("rewards") or []
    evaluation = evaluation or {}
    bfcl = evaluation.get("bfcl") or {}
    summary = evaluation.get("bfcl_summary", {}) if bfcl else {}
    v4 = summary.get("v4", {}).get("overall")
    heldout = evaluation.get("heldout", {}).get("accuracy")
    reward, stds = _mean(rewards), (record or {}).get("train", {}).get("reward_stds") or []
    shown = "-" if reward is None else f"{reward:.2f}" + (f"±{_mean(stds):.2f}" if stds else "")
    hard = sum(c.get("hard", 0) for c in synth.get("sides_per_kind", {}).values()) if synth else "-"
    return (f"{label:<7}{synth.get('episodes', '-'):>9}{_pct(synth.get('plan_yield')):>9}"
            f"{_pct(synth.get('policy_accuracy')):>7}{hard:>5}{shown:>12}{_pct(_mean(list(bfcl.values()))):>10}"
            f"{_pct(v4):>9}{_pct(_irrelevance(bfcl)):>8}{_pct(summary.get('must_call', {}).get('all')):>10}"
            f"{_pct(heldout):>9}  {evaluation.get('assistant', '')}")  # fmt: skip


def _irrelevance(bfcl: dict[str, float]) -> float | None:
    """BFCL's no-call accuracy over the irrelevance categories that ran; must-call stands beside it
    (calls made where one is expected), so never calling cannot pass for judgement."""
    return _mean([bfcl[c] for c in ("irrelevance", "live_irrelevance") if c in bfcl])


def _figure(draw: Callable[[Any], bool], title: str) -> str:
    """A PNG (base64) of one plot; `draw` returns False when it had no data to show."""
    import logging

    import matplotlib

    matplotlib.use("Agg")
    logging.getLogger("matplotlib").setLevel(logging.WARNING)
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.4, 3.6), dpi=100)
    if not draw(ax):
        ax.text(0.5, 0.5, "no data in this run", ha="center", va="center", transform=ax.transAxes, color="grey")
        ax.set_xticks([])
        ax.set_yticks([])
    ax.set_title(title)
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    plt.close(fig)
    return base64.b64encode(buffer.getvalue()).decode()


def _lines(ax: Any, rows: dict[str, list[float | None]], labels: list[str], percent: bool = True) -> bool:
    if not labels or not rows:
        return False
    for name, values in rows.items():
        ax.plot(labels, [float("nan") if v is None else v for v in values], marker="o", label=name)
    if percent:
        ax.set_ylim(-0.05, 1.05)
    ax.legend(fontsize=7, ncol=2)
    return True


def plots(history: list[Record]) -> dict[str, str]:
    rounds = [f"r{r['round']}" for r in history]
    synth = [r.get("synthesize", {}) for r in history]
    evaluations = _evaluations(history)

    def mix(ax: Any) -> bool:
        kinds = sorted({k for s in synth for k in s.get("mix", {})})
        bottom = [0] * len(rounds)
        for kind in kinds:
            counts = [s.get("mix", {}).get(kind, 0) for s in synth]
            ax.bar(rounds, counts, bottom=bottom, label=kind)
            bottom = [b + c for b, c in zip(bottom, counts, strict=True)]
        if kinds:
            ax.legend(fontsize=7, ncol=2)
            ax.set_ylabel("episodes")
        return bool(kinds)

    def gates(ax: Any) -> bool:
        names = list(dict.fromkeys(g for s in synth for g in s.get("gate_pass_rate", {})))
        return _lines(ax, {g: [s.get("gate_pass_rate", {}).get(g) for s in synth] for g in names}, rounds)

    def reward(ax: Any) -> bool:
        steps = [(r["round"], v) for r in history for v in (r.get("train", {}).get("rewards") or [])]
        if not steps:
            return False
        ax.plot(range(1, len(steps) + 1), [v for _, v in steps], marker=".")
        ax.set_xlabel("GRPO step (all rounds)")
        ax.set_ylabel("mean gated reward")
        return True

    def bfcl(ax: Any) -> bool:
        labels = [label for label, e in evaluations if e.get("bfcl")]
        cats = list(dict.fromkeys(c for _, e in evaluations for c in e.get("bfcl", {})))
        rows = {c: [e["bfcl"].get(c) for _, e in evaluations if e.get("bfcl")] for c in cats}
        return _lines(ax, rows, labels)

    def heldout(ax: Any) -> bool:
        labels = [label for label, e in evaluations if e.get("heldout")]
        kinds = list(dict.fromkeys(k for _, e in evaluations for k in e.get("heldout", {}).get("by_kind", {})))
        rows = {k: [e["heldout"]["by_kind"].get(k) for _, e in evaluations if e.get("heldout")] for k in kinds}
        return _lines(ax, rows, labels)

    def tokens(ax: Any) -> bool:
        series = {"per accepted trajectory": "tokens_per_accepted", "per episode (all)": "tokens_per_episode"}
        values = {label: [s.get(key) or 0 for s in synth] for label, key in series.items()}
        if not any(v for vs in values.values() for v in vs):
            return False
        width = 0.4
        for offset, (label, vs) in zip((-width / 2, width / 2), values.items(), strict=True):
            ax.bar([i + offset for i in range(len(rounds))], vs, width, label=label)
        ax.set_xticks(range(len(rounds)), rounds)
        ax.set_ylabel("tokens (all roles)")
        ax.legend(fontsize=7)
        return True

    charts = {
        "Scenario mix per round": mix, "Gate pass rate per round": gates, "Reward per GRPO step": reward,
        "BFCL accuracy per category": bfcl, "Held-out accuracy per scenario kind": heldout,
        "Tokens per accepted trajectory": tokens,
    }  # fmt: skip
    return {title: _figure(draw, title) for title, draw in charts.items()}


PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>inftool run report</title>
<style>body{{font-family:sans-serif;margin:2em;max-width:1400px}} pre{{background:#f6f6f6;padding:1em}}
.grid{{display:flex;flex-wrap:wrap;gap:1em}} figure{{margin:0}} figcaption{{font-size:.9em;color:#444}}</style>
</head><body data-plots="{count}">
<h1>inftool run report</h1><p>{run_dir}</p>
<h2>Summary</h2><pre>{table}</pre>
<h2>Plots</h2><div class="grid">{figures}</div>
<script>
window.addEventListener("load", function () {{
  var plots = Array.prototype.slice.call(document.querySelectorAll("img.plot"));
  var drawn = plots.filter(function (p) {{ return p.complete && p.naturalWidth > 0; }});
  document.body.dataset.plotsRendered = drawn.length;
}});
</script></body></html>
"""


def write_report(history: list[Record], run_dir: Path) -> Path:
    charts = plots(history)
    figures = "".join(
        f'<figure><img class="plot" alt="{html.escape(t)}" src="data:image/png;base64,{png}">'
        f"<figcaption>{html.escape(t)}</figcaption></figure>"
        for t, png in charts.items()
    )
    page = PAGE.format(count=len(charts), run_dir=html.escape(str(run_dir)), table=html.escape(loop_table(history)),
                       figures=figures)  # fmt: skip
    path = run_dir / "report.html"
    path.write_text(page, encoding="utf-8")
    return path
