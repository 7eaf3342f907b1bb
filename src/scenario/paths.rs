//! Parameter paths (`scheme.reablement.effect.nea`, `tranche.q1.condition.nea.target`,
//! `risk.0.impact`) resolved against the spanned tree, so `--set PATH=VALUE` and sweeps can
//! change any value in the file before it is validated, and a problem found after reading
//! (compiling the model, a trial's money) can be located at the value its key names.
//!
//! A path walks the file's structure: a list (`metric`, `scheme`, `tranche`, `risk`,
//! `correlation`, a scheme's `cost` and `effect`, a tranche's `condition`) is indexed by
//! the entry's id (or its metric / event for effects and conditions), or by its position
//! from 0. A scheme's effect path ends at its `change`. A missing final key is added, so
//! `--set scheme.x.scale=2` works when the file leaves `scale` at its default (whether its
//! table allows it is the reader's to say: see `scenario::load_str_overrides`). One walk,
//! `resolve`, serves both `set_path` and `find`.
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

/// One step down the tree: a key of a table, or an entry of a list by position.
#[derive(Debug, Clone, PartialEq)]
enum Step {
    Key(String),
    Item(usize),
}

/// Where a path leads.
#[derive(Debug, Clone, PartialEq)]
enum Target {
    /// `key` of the table reached by `steps`; the key may be absent (`--set` adds it).
    Key { steps: Vec<Step>, key: String },
    /// A whole list (`scheme.x.cost`) or one whole entry of a list (`scheme.x`), reached by
    /// `steps`: it can be located but not set.
    Whole {
        steps: Vec<Step>,
        list: String,
        entry: bool,
    },
}

/// Walks `path` from `root` without changing anything.
fn resolve(root: &Node, path: &str) -> Result<Target, PathError> {
    let parts: Vec<&str> = path.split('.').collect();
    if parts.iter().any(|p| p.is_empty()) {
        return Err(PathError {
            message: format!("\"{path}\" is not a parameter path"),
            hint: "paths look like scheme.reablement.delivery or fund.pot".into(),
        });
    }
    let mut node = root;
    let mut steps = Vec::new();
    let mut parent_list: Option<&str> = None;
    let mut i = 0;
    while i < parts.len() {
        let part = parts[i];
        let last = i + 1 == parts.len();
        let Value::Table(table) = &node.value else {
            return Err(PathError {
                message: format!("\"{}\" is not a table, so \"{path}\" cannot go inside it", parts[..i].join(".")),
                hint: "set the value itself, e.g. --set 'scheme.x.delivery={ dist = \"beta\", mean = 0.8, sd = 0.1 }'".into(),
            });
        };
        let list = match table.get(part) {
            Some(Node {
                value: Value::Array(items),
                ..
            }) if !items.is_empty() && items.iter().all(|n| matches!(n.value, Value::Table(_))) => {
                Some(items)
            }
            _ => None,
        };
        let Some(items) = list else {
            if last {
                return Ok(Target::Key {
                    steps,
                    key: part.to_string(),
                });
            }
            node = descend(table, part, path)?;
            steps.push(Step::Key(part.to_string()));
            i += 1;
            continue;
        };
        steps.push(Step::Key(part.to_string()));
        let Some(selector) = parts.get(i + 1) else {
            return Ok(Target::Whole {
                steps,
                list: part.to_string(),
                entry: false,
            });
        };
        let keys = list_key(parent_list, part);
        let position = find_entry(items, keys, selector).ok_or_else(|| PathError {
            message: format!("no {part} \"{selector}\" in \"{}\"", parts[..=i].join(".")),
            hint: format!("known: {}", entry_names(items, keys).join(", ")),
        })?;
        node = &items[position];
        steps.push(Step::Item(position));
        parent_list = Some(part);
        i += 2;
        // A scheme effect's path ends at its change: scheme.x.effect.nea[.mean]
        if parent_list == Some("effect") {
            if i == parts.len() {
                return Ok(Target::Key {
                    steps,
                    key: "change".into(),
                });
            }
            let Value::Table(t) = &node.value else {
                return Err(unreachable_error(path));
            };
            node = descend(t, "change", path)?;
            steps.push(Step::Key("change".into()));
            continue;
        }
        if i == parts.len() {
            return Ok(Target::Whole {
                steps,
                list: part.to_string(),
                entry: true,
            });
        }
    }
    Err(PathError {
        message: format!("\"{path}\" is empty"),
        hint: String::new(),
    })
}

/// Replaces (or adds) the value at `path` with `value`; true when the key was added (the
/// file did not have it), so the reader may yet find it is no key of its table.
pub fn set_path(root: &mut Node, path: &str, value: Node) -> Result<bool, PathError> {
    match resolve(root, path)? {
        Target::Key { steps, key } => match follow_mut(root, &steps) {
            Some(Node {
                value: Value::Table(table),
                ..
            }) => {
                let added = table.get(&key).is_none();
                table.set(&key, value);
                Ok(added)
            }
            _ => Err(unreachable_error(path)),
        },
        Target::Whole { entry: false, .. } => Err(PathError {
            message: format!("\"{path}\" names a whole list"),
            hint: "name one entry and a key, e.g. scheme.reablement.delivery".into(),
        }),
        Target::Whole { list, .. } => Err(PathError {
            message: format!("\"{path}\" names a whole {list} entry"),
            hint: "add the key to set, e.g. .delivery or .target".into(),
        }),
    }
}

/// The node `path` names, to locate a problem with it: the key's value; for a key the file
/// leaves at its default, the table it would go in; a whole list or entry itself. A path
/// that does not resolve falls back to its longest prefix that does (the nearest
/// enclosing entry or section); None when not even its first part names anything.
pub fn find<'a>(root: &'a Node, path: &str) -> Option<&'a Node> {
    let mut path = path;
    loop {
        match resolve(root, path) {
            Ok(Target::Key { steps, key }) => {
                let holder = follow(root, &steps)?;
                let value = match &holder.value {
                    Value::Table(t) => t.get(&key),
                    _ => None,
                };
                return match value {
                    Some(node) => Some(node),
                    None if steps.is_empty() => None,
                    None => Some(holder),
                };
            }
            Ok(Target::Whole { steps, .. }) => return follow(root, &steps),
            Err(_) => path = path.rsplit_once('.')?.0,
        }
    }
}

fn unreachable_error(path: &str) -> PathError {
    PathError {
        message: format!("cannot resolve \"{path}\""),
        hint: String::new(),
    }
}

fn descend<'a>(table: &'a Table, key: &str, path: &str) -> Result<&'a Node, PathError> {
    table.get(key).ok_or_else(|| PathError {
        message: format!("\"{path}\": no key `{key}` here"),
        hint: "check the spelling against the scenario file; paths follow its sections, e.g. metric.nea.growth, fund.pot".into(),
    })
}

fn follow<'a>(root: &'a Node, steps: &[Step]) -> Option<&'a Node> {
    steps
        .iter()
        .try_fold(root, |node, step| match (step, &node.value) {
            (Step::Key(key), Value::Table(t)) => t.get(key),
            (Step::Item(i), Value::Array(items)) => items.get(*i),
            _ => None,
        })
}

fn follow_mut<'a>(mut node: &'a mut Node, steps: &[Step]) -> Option<&'a mut Node> {
    for step in steps {
        node = match (step, &mut node.value) {
            (Step::Key(key), Value::Table(t)) => t.get_mut(key)?,
            (Step::Item(i), Value::Array(items)) => items.get_mut(*i)?,
            _ => return None,
        };
    }
    Some(node)
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
    fn find_names_the_same_nodes_set_path_changes() {
        let root = doc(TEXT);
        let at = |path: &str| find(&root, path).map(|n| n.span.start);
        let change = get(&root, &["scheme", "0", "effect", "0", "change"])
            .span
            .start;
        assert_eq!(at("scheme.a.effect.nea"), Some(change));
        assert_eq!(at("scheme.0.effect.0"), Some(change));
        let amount = get(&root, &["scheme", "0", "cost", "0", "amount"])
            .span
            .start;
        assert_eq!(at("scheme.a.cost.0.amount"), Some(amount));
        // A key left at its default, an unknown entry: the nearest enclosing node.
        let scheme = get(&root, &["scheme", "0"]).span.start;
        assert_eq!(at("scheme.a.scale"), Some(scheme));
        assert_eq!(
            at("tranche.t1.condition.zz.target"),
            at("tranche.t1.condition")
        );
        assert_eq!(at("fund.pot.deeper"), at("fund.pot"));
        assert_eq!(at("nothing"), None);
        assert_eq!(at("nothing.at.all"), None);
        assert_eq!(at(""), None);
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
