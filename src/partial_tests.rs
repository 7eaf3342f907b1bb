//! Tests of the merge checks in `partial`: the checksum over the content's exact bytes,
//! the build identity, refused old format versions, and the completeness messages (a
//! repeated last shard, a stale shard count).
use super::*;

fn part(index: u64, count: u64) -> Partial {
    Partial {
        format: FORMAT.into(),
        version: VERSION,
        itfsim: "0.0.0".into(),
        fingerprint: Fingerprint {
            command: "sweep".into(),
            build: "0123456789abcdef".into(),
            scenario_file: "s.toml".into(),
            scenario_sha256: "00".into(),
            sets: Vec::new(),
            seed: 1,
            trials: 10,
            sampling: "mc".into(),
            options_sha256: Some("11".into()),
        },
        shard: ShardId { index, count },
        trial_range: [0, 10],
        threads: 1,
        elapsed_s: 0.5,
        scenario_text: "[scenario]\nname = \"x\"\n".into(),
        content: Content::Sweep {
            grids: vec![GridValues {
                path: "fund.pot".into(),
                values: vec!["1".into(), "2".into()],
            }],
            points: 2,
            point_range: [0, 1],
            rows: vec![serde_json::json!({"fund.pot": "1", "expected_paid": "12.34"})],
        },
    }
}

fn headers(parts: &[(&str, Partial)]) -> Vec<(String, Header)> {
    parts
        .iter()
        .map(|(f, p)| (f.to_string(), p.header()))
        .collect()
}

#[test]
fn a_partial_round_trips_and_its_checksum_covers_the_content_bytes() {
    let p = part(0, 2);
    let bytes = p.to_bytes();
    let back = Partial::from_bytes("a.json", &bytes).unwrap();
    assert_eq!(back.to_bytes(), bytes);
    let text = String::from_utf8(bytes).unwrap();
    // One character of a row changed: refused by the checksum, naming the file.
    let edited = text.replace("12.34", "12.35");
    assert_ne!(edited, text);
    let e = Partial::from_bytes("a.json", edited.as_bytes()).unwrap_err();
    assert!(matches!(e, PartialError::Checksum { .. }), "{e}");
    let message = e.to_string();
    assert!(message.starts_with("a.json: ") && message.contains("rerun that shard"));
    // Whitespace inside the content is bytes too.
    let spaced = text.replace("\"points\":2", "\"points\": 2");
    assert_ne!(spaced, text);
    assert!(matches!(
        Partial::from_bytes("a.json", spaced.as_bytes()),
        Err(PartialError::Checksum { .. })
    ));
    // The build identity is outside the content: editing it keeps the checksum valid.
    let other_build = text.replace("0123456789abcdef", "fedcba9876543210");
    let q = Partial::from_bytes("b.json", other_build.as_bytes()).unwrap();
    assert_eq!(q.fingerprint.build, "fedcba9876543210");
    // Cut short: a partial that ends early, whatever the cut.
    for len in [8, 30, text.len() / 2, text.len() - 2] {
        let cut = &text.as_bytes()[..len];
        assert!(matches!(
            Partial::from_bytes("a.json", cut),
            Err(PartialError::Truncated { bytes, .. }) if bytes == len
        ));
    }
    // Another file cut short is still not a partial.
    assert!(matches!(
        Partial::from_bytes("a.json", b"{\"format\":\"other\""),
        Err(PartialError::NotPartial { .. })
    ));
}

#[test]
fn a_version_1_partial_is_refused_with_the_reason() {
    let text = String::from_utf8(part(0, 1).to_bytes()).unwrap();
    let old = text.replace("\"version\":3", "\"version\":1");
    let e = Partial::from_bytes("old.json", old.as_bytes()).unwrap_err();
    let message = e.to_string();
    assert!(matches!(e, PartialError::Version { found: 1, .. }));
    assert!(
        message.contains("no build identity and no checksum")
            && message.contains("rerun the shards"),
        "{message}"
    );
}

#[test]
fn a_version_2_partial_is_refused_with_the_reason() {
    let text = String::from_utf8(part(0, 1).to_bytes()).unwrap();
    let old = text.replace("\"version\":3", "\"version\":2");
    let e = Partial::from_bytes("old.json", old.as_bytes()).unwrap_err();
    let message = e.to_string();
    assert!(matches!(e, PartialError::Version { found: 2, .. }));
    assert!(
        message.contains("version 2 partials come from an older itfsim")
            && message.contains("rerun the shards"),
        "{message}"
    );
}

#[test]
fn partials_of_different_builds_are_refused_naming_both() {
    let a = part(0, 2);
    let mut b = part(1, 2);
    b.fingerprint.build = "fedcba9876543210".into();
    // Another build is reported before any other difference it may explain.
    b.fingerprint.seed = 2;
    let e = check_complete(headers(&[("a.json", a), ("b.json", b)])).unwrap_err();
    let message = e.to_string();
    assert!(matches!(e, PartialError::Build { .. }), "{message}");
    for needle in [
        "b.json",
        "a.json",
        "fedcba9876543210",
        "0123456789abcdef",
        "rerun the shards with one build",
    ] {
        assert!(message.contains(needle), "{needle}: {message}");
    }
}

#[test]
fn a_repeated_last_shard_is_given_more_than_once() {
    for (indices, wording) in [
        (&[0, 1, 1][..], "shard 1 of 2 is given more than once"),
        (&[0, 0, 1][..], "shard 0 of 2 is given more than once"),
        // Both true; the first gap in index order is reported.
        (&[1, 1][..], "shard 0 of 2 is missing"),
        (&[0, 0][..], "shard 0 of 2 is given more than once"),
        (&[0][..], "shard 1 of 2 is missing"),
        (&[1][..], "shard 0 of 2 is missing"),
    ] {
        let parts: Vec<(String, Header)> = indices
            .iter()
            .enumerate()
            .map(|(k, &i)| (format!("p{k}.json"), part(i, 2).header()))
            .collect();
        let message = check_complete(parts).unwrap_err().to_string();
        assert!(message.contains(wording), "{indices:?}: {message}");
    }
    let whole = vec![
        ("b".to_string(), part(1, 2).header()),
        ("a".to_string(), part(0, 2).header()),
    ];
    let sorted = check_complete(whole).unwrap();
    assert_eq!(sorted[0].shard.index, 0);
}

#[test]
fn a_different_shard_count_points_at_stale_files() {
    let e = check_complete(headers(&[
        ("part-0.json", part(0, 2)),
        ("part-3.json", part(3, 4)),
    ]))
    .unwrap_err();
    let message = e.to_string();
    assert!(
        message.contains("part-3.json is shard 3 of 4, but part-0.json is shard 0 of 2")
            && message.contains("stale partials of an earlier split"),
        "{message}"
    );
}

#[test]
fn different_sweep_options_name_what_the_hash_covers() {
    let a = part(0, 2);
    let mut b = part(1, 2);
    b.fingerprint.options_sha256 = Some("22".into());
    let message = check_complete(headers(&[("a.json", a), ("b.json", b)]))
        .unwrap_err()
        .to_string();
    assert!(
        message.contains("--grid values") && message.contains("same --grid arguments"),
        "{message}"
    );
}

#[test]
fn ranges_print_half_open() {
    assert_eq!(range_text(10240, 20000), "[10240, 20000)");
}
