//! Parameter paths (`scheme.reablement.effect.nea`, `tranche.q1.condition.nea.target`,
//! `risk.0.impact`) resolved against the spanned tree, so `--set PATH=VALUE` and sweeps can
//! change any value in the file before it is validated.
//!
//! A path walks the file's structure: a list (`metric`, `scheme`, `tranche`, `risk`,
//! `correlation`, a scheme's `cost` and `effect`, a tranche's `condition`) is indexed by
//! the entry's id (or its metric / event for effects and conditions), or by its position
//! from 0. A scheme's effect path ends at its `change`. A missing final key is added, so
//! `--set scheme.x.scale=2` works when the file leaves `scale` at its default.
use super::tree::{Node, Table, Value};

/// Why a path did not resolve.
#[derive(Debug, Clone, PartialEq)]
pub struct PathError {
    pub message: String,
    pub hint: String,
}

fn list_key(parent: Option<&str>, list: &str) -> &'static [&'static str] {
    match (parent, list) {
        (Some("scheme"), "effect") => &["metric"],
        (Some("tranche"), "condition") => &["metric", "event"],
        (_, "cost") | (_, "correlation") => &[],
        _ => &["id"],
    }
}

/// Replaces (or adds) the value at `path` with `value`.
pub fn set_path(root: &mut Node, path: &str, value: Node) -> Result<(), PathError> {
    let parts: Vec<&str> = path.split('.').collect();
    if parts.iter().any(|p| p.is_empty()) {
        return Err(PathError {
            message: format!("\"{path}\" is not a parameter path"),
            hint: "paths look like scheme.reablement.delivery or fund.pot".into(),
        });
    }
    let mut node = root;
    let mut parent_list: Option<&str> = None;
    let mut i = 0;
    while i < parts.len() {
        let part = parts[i];
        let last = i + 1 == parts.len();
        let Value::Table(table) = &mut node.value else {
            return Err(PathError {
                message: format!("\"{}\" is not a table, so \"{path}\" cannot go inside it", parts[..i].join(".")),
                hint: "set the value itself, e.g. --set 'scheme.x.delivery={ dist = \"beta\", mean = 0.8, sd = 0.1 }'".into(),
            });
        };
        let is_list = matches!(table.get(part), Some(Node { value: Value::Array(items), .. }) if items.iter().all(|n| matches!(n.value, Value::Table(_))) && !items.is_empty());
        if last {
            if is_list {
                return Err(PathError {
                    message: format!("\"{path}\" names a whole list"),
                    hint: "name one entry and a key, e.g. scheme.reablement.delivery".into(),
                });
            }
            table.set(part, value);
            return Ok(());
        }
        if is_list {
            let Some(selector) = parts.get(i + 1) else {
                return Err(unreachable_error(path));
            };
            let keys = list_key(parent_list, part);
            let Some(Node {
                value: Value::Array(items),
                ..
            }) = table.get_mut(part)
            else {
                return Err(unreachable_error(path));
            };
            let position = find_entry(items, keys, selector).ok_or_else(|| PathError {
                message: format!("no {part} \"{selector}\" in \"{}\"", parts[..=i].join(".")),
                hint: format!("known: {}", entry_names(items, keys).join(", ")),
            })?;
            let entry = &mut items[position];
            parent_list = Some(part);
            i += 2;
            // A scheme effect's path ends at its change: scheme.x.effect.nea[.mean]
            if parent_list == Some("effect") {
                if i == parts.len() {
                    let Value::Table(t) = &mut entry.value else {
                        return Err(unreachable_error(path));
                    };
                    t.set("change", value);
                    return Ok(());
                }
                let Value::Table(t) = &mut entry.value else {
                    return Err(unreachable_error(path));
                };
                node = descend_or_create(t, "change", path)?;
                continue;
            }
            if i == parts.len() {
                return Err(PathError {
                    message: format!("\"{path}\" names a whole {part} entry"),
                    hint: "add the key to set, e.g. .delivery or .target".into(),
                });
            }
            node = entry;
            continue;
        }
        node = descend_or_create(table, part, path)?;
        i += 1;
    }
    Err(PathError {
        message: format!("\"{path}\" is empty"),
        hint: String::new(),
    })
}

fn unreachable_error(path: &str) -> PathError {
    PathError {
        message: format!("cannot resolve \"{path}\""),
        hint: String::new(),
    }
}

fn descend_or_create<'a>(
    table: &'a mut Table,
    key: &str,
    path: &str,
) -> Result<&'a mut Node, PathError> {
    if table.get(key).is_none() {
        return Err(PathError {
            message: format!("\"{path}\": no key `{key}` here"),
            hint: "check the spelling against the scenario file; paths follow its sections, e.g. metric.nea.growth, fund.pot".into(),
        });
    }
    Ok(table.get_mut(key).expect("checked above"))
}

fn entry_id<'a>(node: &'a Node, keys: &[&str]) -> Option<&'a str> {
    let Value::Table(t) = &node.value else {
        return None;
    };
    keys.iter().find_map(|k| match t.get(k) {
        Some(Node {
            value: Value::String(s),
            ..
        }) => Some(s.as_str()),
        _ => None,
    })
}

fn find_entry(items: &[Node], keys: &[&str], selector: &str) -> Option<usize> {
    if let Some(i) = items
        .iter()
        .position(|n| entry_id(n, keys) == Some(selector))
    {
        return Some(i);
    }
    let index: usize = selector.parse().ok()?;
    (index < items.len()).then_some(index)
}

fn entry_names(items: &[Node], keys: &[&str]) -> Vec<String> {
    items
        .iter()
        .enumerate()
        .map(|(i, n)| {
            entry_id(n, keys)
                .map(str::to_string)
                .unwrap_or_else(|| i.to_string())
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnostic::{Collector, Sources};
    use crate::scenario::tree::{parse_document, parse_value};

    fn doc(text: &str) -> Node {
        let sources = Sources::new();
        let mut d = Collector::new(&sources);
        parse_document(text, 0, &mut d).unwrap()
    }

    fn get<'a>(node: &'a Node, keys: &[&str]) -> &'a Node {
        let mut n = node;
        for k in keys {
            n = match &n.value {
                Value::Table(t) => t.get(k).unwrap(),
                Value::Array(items) => &items[k.parse::<usize>().unwrap()],
                _ => panic!(),
            };
        }
        n
    }

    const TEXT: &str = "[fund]\npot = \"100\"\n[[scheme]]\nid = \"a\"\n[[scheme.effect]]\nmetric = \"nea\"\nchange = 0.1\n[[scheme.cost]]\nitem = \"x\"\namount = \"5\"\n[[tranche]]\nid = \"t1\"\n[[tranche.condition]]\nevent = \"e\"\nprobability = 0.5\n";

    #[test]
    fn sets_values_by_id_position_and_effect_metric() {
        let mut root = doc(TEXT);
        set_path(&mut root, "fund.pot", parse_value("\"200\"", 1)).unwrap();
        assert_eq!(
            get(&root, &["fund", "pot"]).value,
            Value::String("200".into())
        );
        set_path(&mut root, "scheme.a.effect.nea", parse_value("0.2", 1)).unwrap();
        assert_eq!(
            get(&root, &["scheme", "0", "effect", "0", "change"]).value,
            Value::Float(0.2, "0.2".into())
        );
        set_path(&mut root, "scheme.a.cost.0.amount", parse_value("7", 1)).unwrap();
        assert!(matches!(
            get(&root, &["scheme", "0", "cost", "0", "amount"]).value,
            Value::Integer(7, _)
        ));
        set_path(&mut root, "scheme.a.scale", parse_value("2", 1)).unwrap();
        assert!(matches!(
            get(&root, &["scheme", "0", "scale"]).value,
            Value::Integer(2, _)
        ));
        set_path(
            &mut root,
            "tranche.t1.condition.e.probability",
            parse_value("0.9", 1),
        )
        .unwrap();
        assert_eq!(
            get(&root, &["tranche", "0", "condition", "0", "probability"]).value,
            Value::Float(0.9, "0.9".into())
        );
    }

    #[test]
    fn unknown_entries_are_named() {
        let mut root = doc(TEXT);
        let e = set_path(&mut root, "scheme.b.delivery", parse_value("1", 1)).unwrap_err();
        assert!(e.message.contains("no scheme \"b\""), "{}", e.message);
        assert!(e.hint.contains('a'));
        let e = set_path(&mut root, "fudn.pot", parse_value("1", 1)).unwrap_err();
        assert!(e.message.contains("no key `fudn`"), "{}", e.message);
    }
}
