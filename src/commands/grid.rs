//! Grids of values for `sweep` and `thresholds`: `PATH=FROM:TO:STEP` decimal ranges and
//! `PATH=V1,V2,...` lists, whose items may be inline TOML tables with commas inside.
//!
//! Invariants: range values are `FROM + k x STEP` computed exactly in `Decimal` (0.1 steps
//! give exactly 0.1, 0.2, ...), ascending, and TO is included exactly when reached; the
//! number of values is known before any is made, so an oversized grid is refused without
//! allocating it. Errors are plain messages for exit code 2 (a bad command line).
use rust_decimal::Decimal;
use std::str::FromStr;

/// One `--grid`: a path and its values as `--set` value text.
#[derive(Clone, Debug, PartialEq)]
pub struct Grid {
    pub path: String,
    pub values: Vec<String>,
}

/// `FROM, FROM + STEP, ...` up to TO inclusive, at most `max` values.
pub fn decimal_range(
    from: Decimal,
    to: Decimal,
    step: Decimal,
    max: u64,
) -> Result<Vec<Decimal>, String> {
    if step <= Decimal::ZERO {
        return Err(format!("the step must be above 0 (got {step})"));
    }
    if from > to {
        return Err(format!(
            "the range is reversed: FROM {from} is above TO {to} (give FROM <= TO)"
        ));
    }
    let overflow = || format!("the range {from}:{to}:{step} is too large");
    let steps = to
        .checked_sub(from)
        .and_then(|span| span.checked_div(step))
        .ok_or_else(overflow)?
        .floor();
    if steps >= Decimal::from(max) {
        return Err(format!(
            "the range {from}:{to}:{step} has more than {max} values (raise --max-points if you mean it)"
        ));
    }
    let mut count = u64::try_from(steps).map_err(|_| overflow())? + 1;
    // Decimal division rounds at 28 digits: never step past TO.
    while count > 1 && from + step * Decimal::from(count - 1) > to {
        count -= 1;
    }
    // One number of decimals for every value: the most the user wrote.
    let scale = from.scale().max(to.scale()).max(step.scale());
    Ok((0..count)
        .map(|k| {
            let mut v = from + step * Decimal::from(k);
            v.rescale(scale);
            v
        })
        .collect())
}

/// A note for a range whose step does not land on TO (`0:0.03:0.007` ends at 0.028): TO
/// is included only when reached, which a user may not expect; None when it is.
pub fn short_of(what: &str, to: Decimal, values: &[Decimal]) -> Option<String> {
    let last = values.last()?;
    (*last != to)
        .then(|| format!("{what}: the step does not land on {to}, so the last value is {last}"))
}

/// Splits on `separator` outside braces, brackets and quoted strings.
pub fn split_top_level(text: &str, separator: char) -> Vec<&str> {
    let mut parts = Vec::new();
    let mut depth = 0i32;
    let mut quote: Option<char> = None;
    let mut escaped = false;
    let mut start = 0;
    for (i, ch) in text.char_indices() {
        if let Some(q) = quote {
            if escaped {
                escaped = false;
            } else if ch == '\\' && q == '"' {
                escaped = true;
            } else if ch == q {
                quote = None;
            }
            continue;
        }
        match ch {
            '"' | '\'' => quote = Some(ch),
            '{' | '[' => depth += 1,
            '}' | ']' => depth -= 1,
            c if c == separator && depth == 0 => {
                parts.push(&text[start..i]);
                start = i + c.len_utf8();
            }
            _ => {}
        }
    }
    parts.push(&text[start..]);
    parts
}

/// Parses one `--grid PATH=FROM:TO:STEP | PATH=V1,V2,...`, with a note ([`short_of`]) for
/// a range that stops short of TO.
pub fn parse_grid(arg: &str, max: u64) -> Result<(Grid, Option<String>), String> {
    let Some((path, spec)) = arg.split_once('=') else {
        return Err(format!(
            "--grid {arg}: expected PATH=FROM:TO:STEP or PATH=V1,V2,... (e.g. --grid scheme.reablement.delivery=0.5:1:0.1)"
        ));
    };
    let path = path.trim().to_string();
    if path.is_empty() {
        return Err(format!("--grid {arg}: the path is empty"));
    }
    let bad = |message: String| format!("--grid {arg}: {message}");
    let colon_parts = split_top_level(spec, ':');
    let mut note = None;
    let values = if colon_parts.len() > 1 {
        let [from, to, step] = colon_parts[..] else {
            return Err(bad(format!(
                "a range is FROM:TO:STEP, three numbers; got {} parts",
                colon_parts.len()
            )));
        };
        let number = |name: &str, text: &str| {
            Decimal::from_str(text.trim()).map_err(|_| {
                bad(format!(
                    "{name} \"{}\" is not a number (ranges are numeric; list other values as V1,V2,...)",
                    text.trim()
                ))
            })
        };
        let (from, to, step) = (
            number("FROM", from)?,
            number("TO", to)?,
            number("STEP", step)?,
        );
        let range = decimal_range(from, to, step, max).map_err(bad)?;
        note = short_of(&format!("--grid {arg}"), to, &range);
        range.into_iter().map(|d| d.to_string()).collect()
    } else {
        let items: Vec<String> = split_top_level(spec, ',')
            .into_iter()
            .map(|v| v.trim().to_string())
            .collect();
        if items.iter().any(|v| v.is_empty()) {
            return Err(bad("an empty value in the list".into()));
        }
        if items.len() as u64 > max {
            return Err(bad(format!(
                "more than {max} values (raise --max-points if you mean it)"
            )));
        }
        items
    };
    Ok((Grid { path, values }, note))
}

/// Number of points of the cartesian product, refused above `max`.
pub fn point_count(grids: &[Grid], max: u64) -> Result<u64, String> {
    let mut n: u64 = 1;
    for g in grids {
        n = n.saturating_mul(g.values.len() as u64);
    }
    if n > max {
        return Err(format!(
            "the grids make {n} points, more than {max} (raise --max-points if you mean it)"
        ));
    }
    Ok(n)
}

/// The values of point `index` (first grid slowest, last grid fastest).
pub fn point_values(grids: &[Grid], mut index: u64) -> Vec<&str> {
    let mut out = vec![""; grids.len()];
    for (g, slot) in grids.iter().zip(out.iter_mut()).rev() {
        let n = g.values.len() as u64;
        *slot = &g.values[(index % n) as usize];
        index /= n;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Decimal {
        Decimal::from_str(s).unwrap()
    }

    #[test]
    fn tenth_steps_are_exact_and_include_the_end() {
        let v: Vec<String> = decimal_range(d("0"), d("1"), d("0.1"), 100)
            .unwrap()
            .iter()
            .map(|x| x.to_string())
            .collect();
        assert_eq!(
            v,
            [
                "0.0", "0.1", "0.2", "0.3", "0.4", "0.5", "0.6", "0.7", "0.8", "0.9", "1.0"
            ]
        );
        let v = decimal_range(d("0.01"), d("0.06"), d("0.0025"), 100).unwrap();
        assert_eq!(v.len(), 21);
        assert_eq!(v[20], d("0.06"));
        // TO not reached exactly: the last value stays below it.
        let v = decimal_range(d("0"), d("1"), d("0.3"), 100).unwrap();
        assert_eq!(v.last().unwrap().to_string(), "0.9");
    }

    #[test]
    fn bad_ranges_are_refused() {
        assert!(
            decimal_range(d("0"), d("1"), d("0"), 100)
                .unwrap_err()
                .contains("step")
        );
        assert!(
            decimal_range(d("0"), d("1"), d("-0.1"), 100)
                .unwrap_err()
                .contains("step")
        );
        assert!(
            decimal_range(d("1"), d("0"), d("0.1"), 100)
                .unwrap_err()
                .contains("reversed")
        );
        assert!(
            decimal_range(d("0"), d("1"), d("0.001"), 100)
                .unwrap_err()
                .contains("--max-points")
        );
        assert_eq!(
            decimal_range(d("0"), d("1"), d("0.01"), 101).unwrap().len(),
            101
        );
    }

    #[test]
    fn lists_split_outside_braces() {
        let g = parse_grid(
            r#"scheme.x.effect.nea={ dist = "pert", min = 0, mode = 0.01, max = 0.03 },0.02"#,
            10,
        )
        .unwrap()
        .0;
        assert_eq!(g.path, "scheme.x.effect.nea");
        assert_eq!(
            g.values,
            [
                r#"{ dist = "pert", min = 0, mode = 0.01, max = 0.03 }"#,
                "0.02"
            ]
        );
        let (g, note) = parse_grid(r#"a.b="x,y",[1, 2]"#, 10).unwrap();
        assert_eq!(g.values, [r#""x,y""#, "[1, 2]"]);
        assert_eq!(note, None);
        assert!(
            parse_grid("a.b=0:x:1", 10)
                .unwrap_err()
                .contains("not a number")
        );
        assert!(
            parse_grid("a.b=0:1", 10)
                .unwrap_err()
                .contains("FROM:TO:STEP")
        );
        assert!(parse_grid("a.b", 10).is_err());
        assert!(parse_grid("a.b=1,,2", 10).is_err());
    }

    #[test]
    fn a_range_that_stops_short_of_to_is_noted() {
        let (g, note) = parse_grid("a.b=0:0.03:0.007", 10).unwrap();
        assert_eq!(g.values, ["0.000", "0.007", "0.014", "0.021", "0.028"]);
        assert_eq!(
            note.as_deref(),
            Some(
                "--grid a.b=0:0.03:0.007: the step does not land on 0.03, so the last value is 0.028"
            )
        );
        let (g, note) = parse_grid("a.b=0:0.03:0.01", 10).unwrap();
        assert_eq!(g.values.last().map(String::as_str), Some("0.03"));
        assert_eq!(note, None);
    }

    #[test]
    fn points_walk_the_product_last_grid_fastest() {
        let grids = vec![
            Grid {
                path: "a".into(),
                values: vec!["1".into(), "2".into()],
            },
            Grid {
                path: "b".into(),
                values: vec!["x".into(), "y".into(), "z".into()],
            },
        ];
        assert_eq!(point_count(&grids, 6).unwrap(), 6);
        assert!(point_count(&grids, 5).is_err());
        assert_eq!(point_values(&grids, 0), ["1", "x"]);
        assert_eq!(point_values(&grids, 2), ["1", "z"]);
        assert_eq!(point_values(&grids, 3), ["2", "x"]);
    }
}
