//! The instruction set the engine's hot loops run with, chosen once per process at run
//! time.
//!
//! The default build targets generic x86-64 (SSE2: two doubles to a vector register, no
//! 64-bit vector multiply), so one binary runs on any x86-64 machine. The block path (a
//! block of trials simulated and staged into the summaries, `engine::Worker::run_block`)
//! is compiled a second time with the x86-64-v3 features (AVX2, BMI1/2, FMA, LZCNT,
//! MOVBE, F16C: every x86-64 CPU since about 2013-2015), and [`run`] takes that copy when
//! the CPU has them all. Within it, the loops that draw a block's keyed streams
//! ([`run_streams`]) are compiled once more with the x86-64-v4 features (those plus
//! AVX-512 F, BW, CD, DQ and VL: Intel server CPUs since 2017, AMD since Zen 4) and taken
//! on a CPU that has them: each uniform costs four 64-bit multiplies (two SplitMix64
//! finalisers), one `vpmullq` each with AVX-512DQ where AVX2 needs three 32-bit
//! multiplies and the shifts and adds that combine them.
//!
//! Only the streams, because LLVM compiles AVX-512 code with 512-bit vectors unless the
//! target CPU's tuning says otherwise, and Rust has no stable way to ask for 256-bit
//! ones in one function: on this project's AMD EPYC the whole block path with AVX-512
//! ran about 3% slower than the AVX2 copy (CPU time, alternating runs), the streams alone
//! with it about 2% faster (fourteenth round, docs/performance-and-scale.md).
//!
//! All copies carry out the same IEEE operations in the same order (Rust never fuses a
//! multiply and an add unless the code asks, with `mul_add`), so results are bit for bit
//! the same on any; a test runs every shipped scenario on each copy the CPU allows and
//! compares. `ITFSIM_ISA` in the environment caps the choice, for that test and for
//! anyone who wants to rule a copy out: `baseline` forces the generic copy, `avx2` the
//! AVX2 one without the AVX-512 streams.
//!
//! Only code inlined into [`run`]'s (or [`run_streams`]'s) argument is compiled again,
//! so the functions of the block path are `#[inline(always)]`; calls to functions that
//! are not inlined (libm, a summary's fold) run their one generic copy from any.
//!
//! These calls are the crate's one kind of `unsafe` operation: calling a function
//! compiled for features its caller lacks, sound exactly when the CPU has them, which
//! [`chosen`] checks first.

use std::sync::OnceLock;

/// The instruction sets [`run`] and [`run_streams`] choose between, from narrowest to
/// widest.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Isa {
    /// The build's own target (generic x86-64 unless built with other `RUSTFLAGS`).
    Baseline,
    /// x86-64-v3: AVX2, BMI1, BMI2, FMA, LZCNT, MOVBE, F16C.
    Avx2,
    /// The AVX2 copy, with its keyed streams ([`run_streams`]) on x86-64-v4: x86-64-v3
    /// and AVX-512 F, BW, CD, DQ, VL.
    Avx512,
}

impl Isa {
    /// The name `bench` reports and `ITFSIM_ISA` takes: `baseline`, `avx2` or `avx512`.
    pub fn name(self) -> &'static str {
        match self {
            Isa::Baseline => "baseline",
            Isa::Avx2 => "avx2",
            Isa::Avx512 => "avx512",
        }
    }
}

/// The widest instruction set this CPU has every feature of.
pub fn cpu_best() -> Isa {
    if cpu_has_avx512() {
        Isa::Avx512
    } else if cpu_has_avx2() {
        Isa::Avx2
    } else {
        Isa::Baseline
    }
}

/// The instruction set [`run`] and [`run_streams`] use in this process: the CPU's widest ([`cpu_best`]),
/// no wider than `ITFSIM_ISA` allows when it is `baseline` or `avx2`. Checked once.
pub fn chosen() -> Isa {
    static CHOSEN: OnceLock<Isa> = OnceLock::new();
    *CHOSEN.get_or_init(|| {
        let cap = match std::env::var_os("ITFSIM_ISA") {
            Some(v) if v == "baseline" => Isa::Baseline,
            Some(v) if v == "avx2" => Isa::Avx2,
            _ => Isa::Avx512,
        };
        cpu_best().min(cap)
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

/// Whether this CPU has every feature the AVX-512 copy is compiled with (x86-64-v4).
pub fn cpu_has_avx512() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::is_x86_feature_detected as has;
        cpu_has_avx2()
            && has!("avx512f")
            && has!("avx512bw")
            && has!("avx512cd")
            && has!("avx512dq")
            && has!("avx512vl")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// Runs `f`, compiled for the [`chosen`] instruction set: `f`'s body, and whatever it
/// inlines, exists once in the build's own instructions and once in AVX2's, which
/// [`Isa::Avx512`] takes too.
#[inline(always)]
pub fn run<R>(f: impl FnOnce() -> R) -> R {
    #[cfg(target_arch = "x86_64")]
    if chosen() >= Isa::Avx2 {
        // SAFETY: `avx2` is compiled with target features this CPU has: `chosen` returns
        // `Avx2` or `Avx512` only when `cpu_has_avx2` found every one of them at run time.
        #[allow(unsafe_code)]
        return unsafe { avx2(f) };
    }
    f()
}

/// Runs `f`, a loop over a block's keyed streams inside [`run`]'s argument, compiled
/// with AVX-512 when [`chosen`] is [`Isa::Avx512`], else as the code around it.
#[inline(always)]
pub fn run_streams<R>(f: impl FnOnce() -> R) -> R {
    #[cfg(target_arch = "x86_64")]
    if chosen() == Isa::Avx512 {
        // SAFETY: `avx512` is compiled with target features this CPU has: `chosen`
        // returns `Avx512` only when `cpu_has_avx512` found every one of them at run time.
        #[allow(unsafe_code)]
        return unsafe { avx512(f) };
    }
    f()
}

/// `f()` compiled with the x86-64-v3 features.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx,avx2,bmi1,bmi2,f16c,fma,lzcnt,movbe,popcnt")]
fn avx2<R>(f: impl FnOnce() -> R) -> R {
    f()
}

/// `f()` compiled with the x86-64-v4 features.
#[cfg(target_arch = "x86_64")]
#[target_feature(
    enable = "avx,avx2,bmi1,bmi2,f16c,fma,lzcnt,movbe,popcnt,avx512f,avx512bw,avx512cd,avx512dq,avx512vl"
)]
fn avx512<R>(f: impl FnOnce() -> R) -> R {
    f()
}
