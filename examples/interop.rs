//! PyTorch → typenet → PyTorch: loads a parameter file exported from
//! PyTorch, trains the network a little here, and saves it for PyTorch to
//! read back (see docs/interop.md).
//!
//! ```text
//! cargo run --release --example interop -- [IN.tnet [OUT.tnet]]
//! ```
//!
//! `IN` defaults to the committed `tests/fixtures/torch_mlp_f32.tnet`
//! (`nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 3))`), `OUT` to
//! `target/interop.tnet`. The last line gives the outputs for the input
//! `0.5,-1,0.25,2` after training; `python tools/interop/import_torch.py OUT
//! --arch "Linear(4, 8), Tanh(), Linear(8, 3)" --input 0.5,-1,0.25,2` prints
//! the same numbers from PyTorch.

use std::process::ExitCode;

use typenet::io;
use typenet::prelude::*;

/// PyTorch's `nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 3))`.
type Net = net![Dense<U4, U8>, Tanh, Dense<U8, U3>];

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let input =
        args.next().unwrap_or_else(|| concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/torch_mlp_f32.tnet").into());
    let output = args.next().unwrap_or_else(|| concat!(env!("CARGO_MANIFEST_DIR"), "/target/interop.tnet").into());
    match run(&input, &output) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("interop: {message}");
            ExitCode::FAILURE
        }
    }
}

fn run(input: &str, output: &str) -> Result<(), String> {
    let bytes = std::fs::read(input).map_err(|e| format!("cannot read {input}: {e}"))?;
    let mut net = Net::default();
    io::load(&mut net, &bytes).map_err(|e| format!("{input}: {e}"))?;
    let x = vector([0.5, -1.0, 0.25, 2.0]);
    println!("loaded {input}: {} parameters", <Net as Params<f32>>::COUNT);
    println!("output before training: {:?}", net.forward(&x).as_slice());

    // A few steps of gradient descent on the squared error towards a target,
    // so the file written below differs from the one read.
    let target = [1.0, 0.0, -1.0];
    let mut cache = Default::default();
    for _ in 0..5 {
        let y = net.forward_train(&x, &mut cache, &mut NoRng);
        let dy = vector([0, 1, 2].map(|i| 2.0 * (y[i] - target[i])));
        let mut grads = <Net as Params<f32>>::Grads::default();
        net.backward(&x, &mut cache, &dy, &mut grads);
        net.zip_mut([&mut grads], &mut |p, [g]| p.iter_mut().zip(g.iter()).for_each(|(p, g)| *p -= 0.05 * g));
    }

    let mut buf = [0u8; io::encoded_len::<Net, f32>()];
    let written = io::save(&net, &mut buf).map_err(|e| e.to_string())?;
    std::fs::write(output, &buf[..written]).map_err(|e| format!("cannot write {output}: {e}"))?;
    println!("wrote {output}: {written} bytes");
    let y = net.forward(&x);
    println!("interop: params={} bytes={written} y0={} y1={} y2={}", <Net as Params<f32>>::COUNT, y[0], y[1], y[2]);
    Ok(())
}
