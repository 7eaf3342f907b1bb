//! The instruction set the engine's hot loops run with, chosen once per process at run
//! time.
//!
//! The default build targets generic x86-64 (SSE2: two doubles to a vector register, no
//! 64-bit vector multiply), so one binary runs on any x86-64 machine. The block path (a
//! block of trials simulated and staged into the summaries, `engine::Worker::run_block`)
//! is compiled a second time with the x86-64-v3 features (AVX2, BMI1/2, FMA, LZCNT, MOVBE,
//! F16C: every x86-64 CPU since about 2013-2015), and [`run`] takes that copy when the CPU
//! has them all. Both copies carry out the same IEEE operations in the same order (Rust
//! never fuses a multiply and an add unless the code asks, with `mul_add`), so results are
//! bit for bit the same on either; a test runs every shipped scenario both ways and
//! compares. `ITFSIM_ISA=baseline` in the environment forces the generic copy, for that
//! test and for anyone who wants to rule the other out.
//!
//! Only code inlined into [`run`]'s argument is compiled twice, so the functions of the
//! block path are `#[inline(always)]`; calls to functions that are not inlined (libm, a
//! summary's fold) run their one generic copy from either.
//!
//! This is the crate's one `unsafe` operation: calling a function compiled for features
//! its caller lacks, sound exactly when the CPU has them, which [`chosen`] checks first.

use std::sync::OnceLock;

/// The instruction sets [`run`] chooses between.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Isa {
    /// The build's own target (generic x86-64 unless built with other `RUSTFLAGS`).
    Baseline,
    /// x86-64-v3: AVX2, BMI1, BMI2, FMA, LZCNT, MOVBE, F16C.
    Avx2,
}

impl Isa {
    /// The name `bench` reports: `baseline` or `avx2`.
    pub fn name(self) -> &'static str {
        match self {
            Isa::Baseline => "baseline",
            Isa::Avx2 => "avx2",
        }
    }
}

/// The instruction set [`run`] uses in this process: AVX2 when the CPU has every
/// x86-64-v3 feature and `ITFSIM_ISA` is not `baseline`. Checked once.
pub fn chosen() -> Isa {
    static CHOSEN: OnceLock<Isa> = OnceLock::new();
    *CHOSEN.get_or_init(|| {
        let forced = std::env::var_os("ITFSIM_ISA").is_some_and(|v| v == "baseline");
        if !forced && cpu_has_avx2() {
            Isa::Avx2
        } else {
            Isa::Baseline
        }
    })
}

/// Whether this CPU has every feature the AVX2 copy is compiled with (x86-64-v3).
pub fn cpu_has_avx2() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::is_x86_feature_detected as has;
        has!("avx")
            && has!("avx2")
            && has!("bmi1")
            && has!("bmi2")
            && has!("f16c")
            && has!("fma")
            && has!("lzcnt")
            && has!("movbe")
            && has!("popcnt")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// Runs `f`, compiled for the [`chosen`] instruction set: `f`'s body, and whatever it
/// inlines, exists once in the build's own instructions and once in AVX2's.
#[inline(always)]
pub fn run<R>(f: impl FnOnce() -> R) -> R {
    #[cfg(target_arch = "x86_64")]
    if chosen() == Isa::Avx2 {
        // SAFETY: `avx2` is compiled with target features this CPU has: `chosen` returns
        // `Avx2` only when `cpu_has_avx2` found every one of them at run time.
        #[allow(unsafe_code)]
        return unsafe { avx2(f) };
    }
    f()
}

/// `f()` compiled with the x86-64-v3 features.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx,avx2,bmi1,bmi2,f16c,fma,lzcnt,movbe,popcnt")]
fn avx2<R>(f: impl FnOnce() -> R) -> R {
    f()
}
