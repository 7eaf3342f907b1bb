"""The itfsim model (docs: /work/shared/MODEL.md sections 3-6) written as a Python analyst
fluent in NumPy would write it: the scenario read with tomllib, every trial of a batch
simulated at once with arrays of shape (trials,) or (trials, months), scipy.stats for
inverse CDFs, a Gaussian copula for the rank correlations, and summaries at the end.

It is a peer for speed, not a reference for numbers: it uses NumPy's PCG64 generator,
not itfsim's keyed streams, so results agree statistically (means within Monte Carlo
error), not draw for draw. It covers what the shipped Ealing scenario uses (normal with
truncation, triangular, PERT, product, negative binomial noise, events, banded rules,
risks, partners); anything else (another rule, seasonality, an end month, another
distribution) stops it with a message (exit 2) rather than being guessed or left out.

    python3 benches/peer/itf_numpy.py scenarios/ealing-2014.toml --trials 1000000
prints one JSON line: trials, seconds, trials_per_s and a few results.
"""

import argparse
import json
import math
import sys
import time
import tomllib

import numpy as np
from scipy import stats

Z90 = stats.norm.ppf(0.9)


def inverse_cdf(spec, u):
    """Values of the distribution `spec` (a number or a TOML table) at uniforms u."""
    if isinstance(spec, (int, float)):
        return np.full(u.shape, float(spec))
    d = spec["dist"]
    if d == "normal":
        mean = spec.get("mean")
        sd = spec.get("sd")
        if mean is None:
            mean = (spec["p10"] + spec["p90"]) / 2
            sd = (spec["p90"] - spec["p10"]) / (2 * Z90)
        lo = (spec.get("min", -np.inf) - mean) / sd
        hi = (spec.get("max", np.inf) - mean) / sd
        return stats.truncnorm.ppf(u, lo, hi, loc=mean, scale=sd)
    if d == "triangular":
        a, c, b = spec["min"], spec["mode"], spec["max"]
        return stats.triang.ppf(u, (c - a) / (b - a), loc=a, scale=b - a)
    if d == "pert":
        a, c, b = spec["min"], spec["mode"], spec["max"]
        lam = spec.get("lambda", 4.0)
        alpha = 1 + lam * (c - a) / (b - a)
        beta = 1 + lam * (b - c) / (b - a)
        return a + (b - a) * stats.beta.ppf(u, alpha, beta)
    if d == "uniform":
        return spec["min"] + (spec["max"] - spec["min"]) * u
    raise NotImplementedError(f"dist {d!r}")


class Draws:
    """Uniforms for every uncertain value of a batch; the copula-correlated ones first."""

    def __init__(self, rng, n, correlations):
        self.rng, self.n, self.fixed = rng, n, {}
        paths = sorted({p for c in correlations for p in c["between"]})
        if paths:
            k = len(paths)
            corr = np.eye(k)
            for c in correlations:
                i, j = (paths.index(p) for p in c["between"])
                # Spearman rank r -> Pearson of the Gaussian copula.
                corr[i, j] = corr[j, i] = 2 * math.sin(math.pi * c["rank"] / 6)
            z = rng.standard_normal((n, k)) @ np.linalg.cholesky(corr).T
            u = stats.norm.cdf(z)
            self.fixed = {p: u[:, i] for i, p in enumerate(paths)}

    def uniform(self, path):
        return self.fixed[path] if path in self.fixed else self.rng.random(self.n)

    def value(self, path, spec, default=None):
        if spec is None:
            spec = default
        if isinstance(spec, dict) and spec["dist"] == "product":
            factors = [self.value(f"{path}#{i}", f) for i, f in enumerate(spec["of"])]
            factors[0] = self.value(path, spec["of"][0])  # the correlation drives factor 0
            return np.prod(factors, axis=0)
        if isinstance(spec, (int, float)):
            return np.full(self.n, float(spec))
        return inverse_cdf(spec, self.uniform(path))

    def occurs(self, path, p):
        return self.uniform(path) >= 1 - p


def month_index(start, ym):
    y0, m0 = map(int, start.split("-"))
    y, m = map(int, ym.split("-"))
    return (y - y0) * 12 + (m - m0)


def unsupported(sc):
    """What the scenario uses that this peer does not model: checked before simulating,
    so nothing is silently left out (seasonality or an end month would change the
    numbers without an error)."""
    found = []
    for m in sc.get("metric", []):
        if "seasonality" in m:
            found.append(f"metric.{m['id']}.seasonality")
    for s in sc.get("scheme", []):
        if "end_month" in s:
            found.append(f"scheme.{s['id']}.end_month")
    for tr in sc.get("tranche", []):
        if tr.get("gate", "weighted") != "weighted":
            found.append(f"tranche.{tr['id']}.gate = {tr['gate']!r}")
        for c in tr.get("condition", []):
            if "metric" in c and c.get("rule") != "banded":
                found.append(f"tranche.{tr['id']}.condition.{c['metric']}.rule = {c.get('rule')!r}")
    return found


def simulate(sc, n, rng):
    """One batch of n trials; returns per-trial total paid (pence) and partner net (pence)."""
    months = sc["scenario"]["months"]
    start = sc["scenario"]["start"]
    t = (np.arange(months) + 0.5) / 12
    draws = Draws(rng, n, sc.get("correlation", []))
    metrics = {m["id"]: m for m in sc["metric"]}
    partners = list(sc["partners"])

    # Schemes: delivery, effective change at full ramp, ramp by month.
    effects = {k: [] for k in metrics}  # metric -> [(scheme id, e (n, months))]
    invest = {p: np.zeros(n) for p in partners}
    for s in sc["scheme"]:
        base = f"scheme.{s['id']}"
        delivered = draws.occurs(f"{base}.delivery", s.get("delivery", 1.0))
        scale = draws.value(f"{base}.scale", s.get("scale"), 1.0)
        returns = draws.value(f"{base}.returns", s.get("returns"), 1.0)
        overrun = draws.value(f"{base}.cost_overrun", s.get("cost_overrun"), 1.0)
        ramp_months = s.get("ramp_months", 0)
        m = np.arange(months)
        if ramp_months == 0:
            ramp = (m >= s.get("start_month", 0)).astype(float)
        else:
            ramp = np.clip((m + 1 - s.get("start_month", 0)) / ramp_months, 0, 1)
        for e in s.get("effect", []):
            change = draws.value(f"{base}.effect.{e['metric']}", e["change"])
            full = np.clip(change * np.maximum(scale, 0) ** returns, -10, 1) * delivered
            effects[e["metric"]].append((s["id"], full[:, None] * ramp[None, :]))
        cost = sum(
            float(c["amount"]) if "amount" in c else float(c["rate"]) * c["quantity"]
            for c in s.get("cost", [])
        )
        mult = np.maximum(overrun, 0) * np.maximum(scale, 0)
        mult = np.where(delivered, mult, mult * s.get("cost_if_undelivered", 1.0))
        for p, share in s["funder"].items():
            invest[p] += np.round(cost * 100 * mult * share)

    # Metrics: expected activity by month, avoided activity, savings by payer.
    monthly = {}
    savings = {p: np.zeros(n) for p in partners}
    for k, m in metrics.items():
        level = draws.value(f"metric.{k}.level", m.get("level"), 1.0)
        unit_cost = draws.value(f"metric.{k}.unit_cost", m.get("unit_cost"), 0.0)
        e = [x for _, x in effects[k]]
        if m["kind"] == "count":
            growth = np.maximum(draws.value(f"metric.{k}.growth", m.get("growth"), 0.0), -0.99)
            mu = m["baseline"] / 12 * level[:, None] * (1 + growth[:, None]) ** t[None, :]
            keep = np.prod([1 - x for x in e], axis=0) if e else np.ones((n, months))
            monthly[k] = mu * keep
            avoided = (mu * (1 - keep)).sum(axis=1)
        elif m["kind"] == "proportion":
            if "growth" in m or "noise" in m or "seasonality" in m:
                raise NotImplementedError("proportion with growth/noise/seasonality")
            p0 = np.clip(m["baseline"] * level, 0, 1)
            total = np.sum(e, axis=0) if e else np.zeros((n, months))
            p = np.clip(p0[:, None] + total, 0, 1)
            monthly[k] = p
            avoided = (m["cohort"] / 12 * (p - p0[:, None])).sum(axis=1)
        else:
            raise NotImplementedError(m["kind"])
        if "payer" in m:
            savings[m["payer"]] += np.round(avoided * unit_cost * 100)

    # Observations: one draw per segment (windows of the same metric share segments).
    cuts = {k: {0, months} for k in metrics}
    for tr in sc["tranche"]:
        if "window" in tr:
            a = month_index(start, tr["window"]["from"])
            b = month_index(start, tr["window"]["to"]) + 1
            for c in tr["condition"]:
                if "metric" in c:
                    cuts[c["metric"]] |= {a, b}
    observed = {}  # (metric, a, b) -> observed count or people at home
    for k, m in metrics.items():
        edges = sorted(cuts[k])
        for a, b in zip(edges, edges[1:]):
            if m["kind"] == "count":
                lam = monthly[k][:, a:b].sum(axis=1)
                noise = m.get("noise", "poisson")
                if isinstance(noise, dict):
                    k_disp = noise["negative_binomial"]["dispersion"]
                    lam = rng.gamma(k_disp, lam / k_disp)
                observed[(k, a, b)] = rng.poisson(lam).astype(float)
            else:
                people = math.floor(m["cohort"] / 12 * (b - a) + 0.5)
                observed[(k, a, b)] = rng.binomial(people, monthly[k][:, a:b].mean(axis=1))

    def window_obs(k, a, b):
        edges = sorted(cuts[k])
        return sum(observed[(k, x, y)] for x, y in zip(edges, edges[1:]) if a <= x and y <= b)

    # Tranches and rules.
    pot = float(sc["fund"]["pot"])
    total_paid = np.zeros(n)
    for tr in sc["tranche"]:
        amount = round(pot * float(tr["share"]) * 100)
        weighted = np.zeros(n)
        for c in tr["condition"]:
            if "event" in c:
                path = f"tranche.{tr['id']}.condition.{c['event']}.probability"
                weighted += c["weight"] * draws.occurs(path, c["probability"])
                continue
            if c.get("rule") != "banded":
                raise NotImplementedError(c.get("rule"))
            k, m = c["metric"], metrics[c["metric"]]
            a = month_index(start, tr["window"]["from"])
            b = month_index(start, tr["window"]["to"]) + 1
            obs = window_obs(k, a, b)
            if m["kind"] == "count":
                base = m["baseline"] / 12 * (b - a)
                achieved = (base - obs) / base
                met = obs <= base * (1 - c["target"]) + 1e-9
            else:
                people = sum(
                    math.floor(m["cohort"] / 12 * (y - x) + 0.5)
                    for x, y in zip(sorted(cuts[k]), sorted(cuts[k])[1:])
                    if a <= x and y <= b
                )
                achieved = obs / people - m["baseline"]
                met = obs / people >= m["baseline"] + c["target"] - 1e-12
            ratio = achieved / c["target"]
            fraction = np.zeros(n)
            for threshold, paid in sorted(c["bands"]):
                fraction = np.where(ratio >= threshold - 1e-9, paid, fraction)
            del met  # "met" feeds p_met, which this peer does not report
            weighted += c["weight"] * fraction
        total_paid += np.clip(np.round(amount * weighted), 0, amount)

    # Partners: performance money split, risks, net.
    unreleased = pot * 100 - total_paid
    net = {}
    for p in partners:
        performance = total_paid * sc["fund"]["released_to"].get(p, 0.0)
        performance += unreleased * sc["fund"]["unreleased_to"].get(p, 0.0)
        risks = np.zeros(n)
        for i, r in enumerate(sc.get("risk", [])):
            if r["partner"] == p:
                rid = r.get("id", str(i))
                hit = draws.occurs(f"risk.{rid}.probability", r["probability"])
                risks += np.where(hit, np.round(draws.value(f"risk.{rid}.impact", r["impact"]) * 100), 0)
        net[p] = savings[p] - invest[p] + performance - risks
    return total_paid, net


def summary(x):
    q = np.quantile(x, [0.05, 0.10, 0.25, 0.5, 0.75, 0.90, 0.95], method="inverted_cdf")
    return {"mean": x.mean() / 100, "sd": x.std(ddof=1) / 100, "p5_p50_p95": [q[0] / 100, q[3] / 100, q[6] / 100]}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("scenario")
    ap.add_argument("--trials", type=int, default=100_000)
    ap.add_argument("--batch", type=int, default=100_000)
    ap.add_argument("--seed", type=int, default=20140401)
    args = ap.parse_args()
    with open(args.scenario, "rb") as f:
        sc = tomllib.load(f)
    missing = unsupported(sc)
    if missing:
        print(
            f"itf_numpy.py: {args.scenario} uses what this NumPy peer does not model: "
            f"{', '.join(missing)}\n"
            "  hint: the peer covers what scenarios/ealing-2014.toml uses (banded rules, "
            "no seasonality); compare on that scenario",
            file=sys.stderr,
        )
        sys.exit(2)
    rng = np.random.default_rng(args.seed)
    started = time.perf_counter()
    paid, nets = [], {}
    done = 0
    while done < args.trials:
        n = min(args.batch, args.trials - done)
        try:
            p, net = simulate(sc, n, rng)
        except NotImplementedError as e:
            print(
                f"itf_numpy.py: {args.scenario} uses {e}, which this NumPy peer does not model\n"
                "  hint: the peer covers what scenarios/ealing-2014.toml uses; compare on that scenario",
                file=sys.stderr,
            )
            sys.exit(2)
        paid.append(p)
        for k, v in net.items():
            nets.setdefault(k, []).append(v)
        done += n
    paid = np.concatenate(paid)
    result = {k: summary(np.concatenate(v)) for k, v in nets.items()}
    seconds = time.perf_counter() - started
    json.dump(
        {
            "peer": "numpy",
            "numpy": np.__version__,
            "trials": args.trials,
            "seconds": seconds,
            "trials_per_s": args.trials / seconds,
            "total_paid": summary(paid),
            "partner_net": result,
        },
        sys.stdout,
    )
    print()


if __name__ == "__main__":
    main()
