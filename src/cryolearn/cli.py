"""``cryolearn`` command line: synthetic data, labelling of clusters, inspection of stores."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

import yaml

from cryolearn.io.dem import DemError
from cryolearn.io.glas import GlasError


def _load_config(path: str) -> dict:
    with open(path) as fh:
        return yaml.safe_load(fh) or {}


class _UnknownNames(ValueError):
    """Names asked for on the command line that the config does not define."""


def _chosen(available: list[str], requested: list[str] | None, what: str, config: str
            ) -> list[str]:
    """The requested names (all when none), refusing any the config lacks."""
    missing = sorted(set(requested or []) - set(available))
    if missing:
        raise _UnknownNames(f"{what} not in {config}: {missing}")
    return [name for name in available if not requested or name in requested]


def _synth_flights(args: argparse.Namespace) -> int:
    from cryolearn.synth.flights import flight_configs, write_flight

    config = _load_config(args.config)
    synth = config.get("synth", {})
    specs = flight_configs(synth)
    names = _chosen([s["name"] for s in specs], args.flight, "flights", args.config)
    for spec in (s for s in specs if s["name"] in names):
        paths = write_flight(synth.get("world", {}), spec, args.out, args.truth)
        print(f"{spec['name']}: {len(paths)} frames in {Path(args.out) / spec['name']}")
    return 0


def _synth_glas(args: argparse.Namespace) -> int:
    from cryolearn.crevasse.library.forward import forward_model
    from cryolearn.synth.glas import fly_and_write

    config = _load_config(args.config)
    synth = config.get("synth", {})
    glas = synth.get("glas", {})
    chosen = _chosen([c["name"] for c in glas.get("campaigns", [])], args.campaign,
                     "campaigns", args.config)
    forward = forward_model(**config.get("waveform", {}))
    for name in chosen:
        l1, l6 = fly_and_write(synth.get("world", {}), glas, name, forward,
                               Path(args.out) / name, Path(args.truth) / f"{name}.zarr",
                               progress=args.verbose)
        print(f"{name}: {l1} and {l6}")
    return 0


def _synth_bedtopo(args: argparse.Namespace) -> int:
    from cryolearn.synth.bedtopo import RegionSpec, write_region

    config = _load_config(args.config)
    spec = RegionSpec.from_dict(config.get("synth", {}).get("bedtopo", {}))
    paths = write_region(spec, args.out, args.truth)
    print(f"region {spec.size_px} x {spec.size_px} cells of {spec.cell_m:g} m: "
          f"{paths['bedmachine']}, radar in {paths['radar']}, truth {paths['truth']}")
    return 0


def _synth_climate(args: argparse.Namespace) -> int:
    from cryolearn.synth.climate import ClimateSpec, write_climate

    config = _load_config(args.config)
    spec = ClimateSpec.from_dict(config.get("synth", {}).get("climate", {}))
    path = write_climate(spec, args.out, args.truth)
    print(f"{spec.days} days from {spec.start}, {spec.steps_per_day} steps a day, "
          f"{spec.n_regimes} hidden regimes: {path}, truth in {args.truth}")
    return 0


def _label(args: argparse.Namespace) -> int:
    from cryolearn.crevasse.surfaces.label_server import LabellingSession, make_server, page_url

    session = LabellingSession(args.clusters, args.library, args.montages, args.labels,
                               examples=args.examples)
    server = make_server(session, args.host, args.port)
    url = page_url(server)
    done = len(session.labels.labels)
    print(f"labelling {session.clustering.n_clusters} clusters ({done} labelled) at {url}\n"
          f"labels are saved to {args.labels} at every click; Ctrl-C stops the server")
    if args.open:
        import webbrowser

        webbrowser.open(url)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        print(f"stopped; {len(session.labels.labels)} labels in {args.labels}")
    finally:
        server.server_close()
    return 0


def _inspect(args: argparse.Namespace) -> int:
    import xarray as xr

    ds = xr.open_zarr(args.store, zarr_format=3, consolidated=False)
    print(ds)
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``cryolearn`` command."""
    parser = argparse.ArgumentParser(prog="cryolearn", description=__doc__)
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress")
    sub = parser.add_subparsers(dest="command", required=True)

    synth = sub.add_parser("synth", help="write synthetic data in real formats")
    synth_sub = synth.add_subparsers(dest="what", required=True)
    flights = synth_sub.add_parser("flights", help="IceBridge IODMS3 DEM frames and truth")
    flights.add_argument("--config", default="config/config.yaml", help="workflow config")
    flights.add_argument("--flight", action="append", help="only this flight (repeatable)")
    flights.add_argument("--out", default="resources/demo/flights", help="frames folder")
    flights.add_argument("--truth", default="resources/demo/truth", help="truth folder")
    flights.set_defaults(func=_synth_flights)

    glas = synth_sub.add_parser("glas", help="ICESat/GLAS campaigns (GLAH01 + GLAH06) and truth")
    glas.add_argument("--config", default="config/config.yaml", help="workflow config")
    glas.add_argument("--campaign", action="append", help="only this campaign (repeatable)")
    glas.add_argument("--out", default="resources/demo/glas", help="campaigns folder")
    glas.add_argument("--truth", default="resources/demo/truth/glas", help="truth folder")
    glas.set_defaults(func=_synth_glas)

    bedtopo = synth_sub.add_parser(
        "bedtopo", help="bed-topography region: BedMachine-like NetCDF, radar CSV, fields, truth")
    bedtopo.add_argument("--config", default="config/config.yaml", help="workflow config")
    bedtopo.add_argument("--out", default="resources/demo/bedtopo", help="region folder")
    bedtopo.add_argument("--truth", default="resources/demo/truth/bedtopo", help="truth folder")
    bedtopo.set_defaults(func=_synth_bedtopo)
    climate = synth_sub.add_parser(
        "climate", help="climate year: ERA5-like NetCDF of 7 variables driven by hidden regimes")
    climate.add_argument("--config", default="config/config.yaml", help="workflow config")
    climate.add_argument("--out", default="resources/demo/climate", help="data folder")
    climate.add_argument("--truth", default="resources/demo/truth/climate", help="truth folder")
    climate.set_defaults(func=_synth_climate)

    label = sub.add_parser("label", help="label OPTICS clusters on a local web page")
    label.add_argument("--clusters", default="results/clusters/clusters.zarr",
                       help="clusters store")
    label.add_argument("--library", default="results/library.zarr", help="tile library")
    label.add_argument("--montages", default="results/clusters/montages",
                       help="folder of cluster montages")
    label.add_argument("--labels", default="config/cluster_labels.yaml",
                       help="labels file to continue and save")
    label.add_argument("--host", default="127.0.0.1", help="loopback address to bind")
    label.add_argument("--port", type=int, default=8765, help="port (0: any free one)")
    label.add_argument("--examples", type=int, default=6,
                       help="further random tiles shown per cluster")
    label.add_argument("--open", action="store_true", help="open the page in a browser")
    label.set_defaults(func=_label)

    inspect = sub.add_parser("inspect", help="summarise a Zarr store")
    inspect.add_argument("store")
    inspect.set_defaults(func=_inspect)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``cryolearn`` command."""
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING)
    try:
        return args.func(args)
    except _UnknownNames as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except (DemError, GlasError, FileNotFoundError, KeyError, ValueError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
