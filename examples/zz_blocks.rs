fn main() {
    let loaded =
        itfsim::scenario::load(std::path::Path::new("scenarios/ealing-2014.toml"), &[]).unwrap();
    let model = itfsim::model::compile(&loaded.scenario, 1).unwrap();
    for m in &model.metrics {
        println!(
            "{} effects {} segments {} blocks {} new {}",
            m.id,
            m.effects.len(),
            m.segments.len(),
            m.blocks.len(),
            m.blocks.iter().filter(|b| b.new_ramps).count()
        );
    }
    println!(
        "params {} uniforms {} outcomes {}",
        model.params.len(),
        model.uniforms,
        model.outcomes.len()
    );
    for p in &model.params {
        println!(
            "  {} fixed={:?} u={}",
            p.path,
            p.fixed.is_some(),
            p.uniforms
        );
    }
}
