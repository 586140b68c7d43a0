# Helpers and input functions: which flights exist, where their frames are,
# which targets the run builds. Rules elsewhere only declare.
from pathlib import Path

from snakemake.utils import validate

from cryolearn.climate.names import CLASSICAL_METHODS, DEEP_METHODS
from cryolearn.constants import CAMPAIGN_YEARS
from cryolearn.synth.flights import FlightSpec, flight_configs, frame_paths, truth_path_for
from cryolearn.synth.scale import ScaleFactors, scale_synth


validate(config, schema="../schemas/config.schema.yaml")
# config scale multiplies the synthetic flights and tracks (config/scale.yaml)
config["synth"] = scale_synth(config["synth"], ScaleFactors.from_dict(config["scale"]))

DEM_DIR = Path(config["dem"]["dir"])
TRUTH_DIR = Path(config["synth"]["truth_dir"])
SYNTHETIC = config["dem"]["source"] == "synthetic"
GLAS_DIR = Path(config["glas"]["dir"])
SYNTHETIC_GLAS = config["glas"]["source"] == "synthetic"


def synthetic_flights():
    """FlightSpec of every configured synthetic flight, by name."""
    return {f["name"]: FlightSpec.from_dict(f) for f in flight_configs(config["synth"])}


def synthetic_flight_config(name):
    """The config mapping of one synthetic flight, over the flight defaults."""
    return next(f for f in flight_configs(config["synth"]) if f["name"] == name)


def flight_names():
    """Flights of this run: the synthetic ones, or the folders under dem.dir."""
    if SYNTHETIC:
        names = list(synthetic_flights())
        if not names:
            raise ValueError("config synth.flights is empty: no synthetic flight to fly")
        return names
    if not DEM_DIR.is_dir():
        raise ValueError(f"dem.dir {DEM_DIR}: no such folder of flights")
    names = config["dem"]["flights"] or sorted(p.name for p in DEM_DIR.iterdir() if p.is_dir())
    if not names:
        raise ValueError(f"dem.dir {DEM_DIR}: no flight folders in it")
    return names


def campaign_names():
    """GLAS campaigns of this run: the synthetic ones, those of glas.paths, or the
    folders under glas.dir."""
    if SYNTHETIC_GLAS:
        names = [c["name"] for c in config["synth"]["glas"]["campaigns"]]
        if not names:
            raise ValueError("config synth.glas.campaigns is empty: no synthetic campaign to fly")
        return names
    if config["glas"]["paths"]:
        return config["glas"]["campaigns"] or sorted(config["glas"]["paths"])
    if not GLAS_DIR.is_dir():
        raise ValueError(f"glas.dir {GLAS_DIR}: no such folder of campaigns")
    names = config["glas"]["campaigns"] or sorted(p.name for p in GLAS_DIR.iterdir() if p.is_dir())
    if not names:
        raise ValueError(f"glas.dir {GLAS_DIR}: no campaign folders in it")
    return names


FLIGHTS = flight_names()
CAMPAIGNS = campaign_names()


wildcard_constraints:
    flight="|".join(FLIGHTS),
    campaign="|".join(CAMPAIGNS),
    year=r"\d{4}",
    year1=r"\d{4}",
    year2=r"\d{4}",


def synthetic_frames(flight):
    """Frame paths that synth_flight writes for one flight."""
    return [str(p) for p in frame_paths(synthetic_flights()[flight], DEM_DIR)]


def synthetic_truth(flight):
    """Truth raster paths beside the frames of one synthetic flight."""
    return [str(truth_path_for(p, TRUTH_DIR)) for p in synthetic_frames(flight)]


def flight_frames(wildcards):
    """DEM frames of a flight, in file-name (time) order."""
    if SYNTHETIC:
        return synthetic_frames(wildcards.flight)
    folder = DEM_DIR / wildcards.flight
    if not folder.is_dir():
        raise ValueError(f"{folder}: flight folder does not exist")
    frames = sorted(str(p) for p in folder.glob("*.tif"))
    if not frames:
        raise ValueError(f"{folder}: flight folder holds no DEM frames (*.tif)")
    return frames


def synthetic_granules(campaign):
    """The GLAH01 and GLAH06 files that synth_glas writes for one campaign."""
    # imported here: it brings xarray and scipy, and every cluster job parses this file
    from cryolearn.synth.glas import granule_names

    return [str(GLAS_DIR / campaign / name) for name in granule_names(campaign)]


def campaign_inputs(wildcards):
    """What ingest_glas reads: a campaign's granule pair, or its folder of real files."""
    if SYNTHETIC_GLAS:
        return synthetic_granules(wildcards.campaign)
    given = config["glas"]["paths"].get(wildcards.campaign)
    if given is not None:
        paths = [given] if isinstance(given, str) else list(given)
        missing = [p for p in paths if not Path(p).exists()]
        if missing:
            raise ValueError(f"glas.paths {wildcards.campaign}: {missing[0]} does not exist")
        return paths
    folder = GLAS_DIR / wildcards.campaign
    if not folder.is_dir():
        raise ValueError(f"{folder}: campaign folder does not exist")
    return [str(folder)]


def synthetic_shot_evaluation_inputs():
    """Shots and their truth, to score the cleaners on (synthetic campaigns only)."""
    if not SYNTHETIC_GLAS:
        return {"shots": [], "truth": []}
    return {
        "shots": expand("results/shots/{campaign}.zarr", campaign=CAMPAIGNS),
        "truth": expand(f"{TRUTH_DIR}/glas/{{campaign}}.zarr", campaign=CAMPAIGNS),
    }


def half_the_cores(wildcards):
    """Threads of a long job that leaves the other half of the machine to the rest."""
    return max(1, workflow.cores // 2)


def forward_params():
    """Keyword arguments of cryolearn.crevasse.library.forward.simulate_waveforms."""
    return dict(config["waveform"])


def truth_targets():
    """Per-flight truth tables (synthetic worlds only)."""
    if not SYNTHETIC:
        return []
    return expand("results/truth/tiles/{flight}.zarr", flight=FLIGHTS)


def index_inputs(wildcards):
    """The library; in the autoencoder matching space also the model and distributions,
    in the aligned space the distributions."""
    inputs = {"library": "results/library.zarr"}
    if config["matching"]["space"] == "autoencoder":
        inputs["model"] = "results/models/autoencoder.pt"
    if config["matching"]["space"] in ("autoencoder", "aligned"):
        inputs["distributions"] = "results/augment/distributions.zarr"
    return inputs


def matching_evaluation_targets():
    """The hold-out experiment needs truth per tile: synthetic worlds only."""
    return ["results/eval/matching.json"] if SYNTHETIC else []


def som_evaluation_targets():
    """Clusters against surface classes need truth per tile: synthetic worlds only."""
    return ["results/eval/som.json"] if SYNTHETIC else []


def crevasse_figures():
    """Every figure of the crevasse pipeline (the `figures` target rule)."""
    return [
        "results/figures/library_examples.png",
        "results/figures/autoencoder_training.png",
        "results/figures/cleaned_shots.png",
        "results/figures/matches.png",
        "results/figures/normalisation_steps.png",
        "results/figures/dct_truncation.png",
        "results/figures/som_umatrix.png",
        "results/figures/optics_reachability.png",
        "results/figures/tile_neighbours.png",
        "results/figures/crevasse_maps.png",
        "results/figures/crevasse_change.png",
        # the hold-out experiment, reliability and realism need synthetic truth
        ["results/figures/holdout_matches.png"] if SYNTHETIC else [],
        [t for t in crevasse_evaluation_targets() + realism_targets() if t.endswith(".png")],
    ]


def final_targets():
    """What `snakemake` builds by default."""
    return [
        "results/library.zarr",
        crevasse_figures(),
        expand("results/denoised/{campaign}.zarr", campaign=CAMPAIGNS),
        "results/eval/autoencoder.json",
        "results/figures/autoencoder_training.png",
        "results/figures/cleaned_shots.png",
        expand("results/matches/{campaign}.zarr", campaign=CAMPAIGNS),
        matching_evaluation_targets(),
        "results/figures/matches.png",
        "results/features/tiles_dct.zarr",
        "results/eval/dct.json",
        "results/som/som.zarr",
        "results/clusters/clusters.zarr",
        som_evaluation_targets(),
        "results/figures/som_umatrix.png",
        "results/figures/optics_reachability.png",
        "results/figures/tile_neighbours.png",
        expand("results/crevasse/{campaign}.zarr", campaign=CAMPAIGNS),
        year_maps(),
        change_maps(),
        crevasse_evaluation_targets(),
        realism_targets(),
        "results/figures/crevasse_maps.png",
        "results/figures/crevasse_change.png",
        bedtopo_targets(),
        climate_targets(),
    ]


# ----------------------------------------------------------- crevasse maps
def labels_file():
    """The cluster labels shot_probabilities reads: a person's file, or synthetic truth's."""
    if config["labels"]["source"] == "synthetic_truth":
        if not SYNTHETIC:
            raise ValueError("labels.source synthetic_truth needs a synthetic world "
                             "(dem.source: synthetic); label the clusters with `cryolearn label`")
        return "results/clusters/labels_synthetic_truth.yaml"
    return config["labels"]["file"]


def classified_store(wildcards):
    """The classifier's store of a campaign, when it gives the published probability."""
    if config["probability"]["source"] != "classifier":
        return []
    return f"results/classified/{wildcards.campaign}.zarr"


def campaign_year(name):
    """Calendar year a campaign is mapped in: config, the synthetic date, or the GLAS table."""
    overrides = config["maps"]["campaign_years"]
    if name in overrides:
        return int(overrides[name])
    if SYNTHETIC_GLAS:
        dates = {c["name"]: c["date"] for c in config["synth"]["glas"]["campaigns"]}
        return int(str(dates[name])[:4])
    if name in CAMPAIGN_YEARS:
        return CAMPAIGN_YEARS[name]
    raise ValueError(f"campaign {name}: year unknown; give it in maps.campaign_years")


def campaigns_by_year():
    """Campaigns of each mapped year; a configured year without campaigns maps nothing."""
    by_year = {}
    for name in CAMPAIGNS:
        by_year.setdefault(campaign_year(name), []).append(name)
    years = config["maps"]["years"] or sorted(by_year)
    return {int(year): by_year.get(int(year), []) for year in years}


def change_pairs():
    """(earlier, later) pairs of mapped years: configured, or consecutive and first to last."""
    years = sorted(CAMPAIGNS_OF_YEAR)
    pairs = config["maps"]["change_pairs"]
    if pairs is None:
        pairs = list(zip(years[:-1], years[1:]))
        if len(years) > 2:
            pairs.append((years[0], years[-1]))
    unknown = sorted({y for pair in pairs for y in pair} - set(years))
    if unknown:
        raise ValueError(f"maps.change_pairs: years {unknown} are not mapped (years: {years})")
    backwards = [list(p) for p in pairs if p[0] >= p[1]]
    if backwards:
        raise ValueError(f"maps.change_pairs: earlier year first, not {backwards}")
    return [(int(a), int(b)) for a, b in pairs]


CAMPAIGNS_OF_YEAR = campaigns_by_year()
CHANGE_PAIRS = change_pairs()


def year_stores(wildcards):
    """Probability stores of the campaigns of one mapped year (none: an empty map)."""
    campaigns = CAMPAIGNS_OF_YEAR[int(wildcards.year)]
    return expand("results/crevasse/{campaign}.zarr", campaign=campaigns)


def pair_year_stores(which):
    """Input function: the probability stores of a change pair's year1 or year2."""

    def stores(wildcards):
        campaigns = CAMPAIGNS_OF_YEAR[int(getattr(wildcards, which))]
        return expand("results/crevasse/{campaign}.zarr", campaign=campaigns)

    return stores


def map_grid_inputs(wildcards):
    """With configured bounds the grid needs nothing; otherwise every campaign's shots."""
    if config["maps"]["bounds"] is not None:
        return []
    return expand("results/crevasse/{campaign}.zarr", campaign=CAMPAIGNS)


def background_dem():
    """Regional DEM drawn under the maps: configured, the synthetic world's, or none."""
    if config["maps"]["background"]:
        return [config["maps"]["background"]]
    return [config["synth"]["surface_dem"]] if SYNTHETIC else []


def year_maps():
    return expand("results/maps/crevasse_{year}.tif", year=sorted(CAMPAIGNS_OF_YEAR))


def change_maps():
    return [f"results/maps/change_{a}_{b}.tif" for a, b in CHANGE_PAIRS]


def crevasse_evaluation_targets():
    """Scores against truth under each footprint: synthetic campaigns only."""
    if not SYNTHETIC_GLAS:
        return []
    ablation = config["crevasse_evaluation"]["ablation"]
    return ["results/eval/crevasse.json", "results/figures/crevasse_reliability.png"] + (
        ["results/eval/crevasse_ablation.json"] if ablation else [])


def realism_targets():
    """Real shots against the synthetic campaigns' shots: synthetic campaigns only."""
    if not SYNTHETIC_GLAS:
        return []
    return ["results/eval/realism.json", "results/figures/realism.png"]


# ---------------------------------------------------------- bed topography
BEDTOPO = config["bedtopo"]
SYNTHETIC_BEDTOPO = BEDTOPO["source"] == "synthetic"
BEDTOPO_TRUTH = str(Path(config["synth"]["truth_dir"]) / "bedtopo" / "bed_truth.nc")
BEDTOPO_BASELINES = BEDTOPO["baselines"]["methods"]


wildcard_constraints:
    protocol="holdout|faithful",
    method="|".join(BEDTOPO_BASELINES) or "none",


def bedtopo_paths():
    """Files the synthetic region is written to (rule synth_bedtopo)."""
    from cryolearn.synth.bedtopo import BEDMACHINE_FILE, FIELD_FILES

    folder = Path(BEDTOPO["dir"])
    return {"bedmachine": str(folder / BEDMACHINE_FILE), "radar": str(folder / "radar"),
            **{name: str(folder / path) for name, path in FIELD_FILES.items()}}


def bedtopo_field_specs():
    """Per input field: path (and variable, band, crs) of its file."""
    if SYNTHETIC_BEDTOPO:
        return {name: {"path": bedtopo_paths()[name]} for name in ("smb", "dhdt", "vx", "vy")}
    missing = [n for n in ("smb", "dhdt", "vx", "vy") if not BEDTOPO["fields"].get(n)]
    if missing:
        raise ValueError(f"bedtopo.fields: give a file for {missing} (bedtopo.source: files)")
    return {name: spec for name, spec in BEDTOPO["fields"].items() if spec}


def bedtopo_inputs(wildcards):
    """BedMachine, the field files and the radar files or folders of the region."""
    if SYNTHETIC_BEDTOPO:
        paths = bedtopo_paths()
        return {"bedmachine": paths["bedmachine"], "radar": [paths["radar"]],
                "fields": [paths[n] for n in ("smb", "dhdt", "vx", "vy")]}
    if not BEDTOPO["bedmachine"] or not BEDTOPO["radar"]:
        raise ValueError("bedtopo.source files needs bedtopo.bedmachine and bedtopo.radar")
    return {"bedmachine": BEDTOPO["bedmachine"], "radar": BEDTOPO["radar"],
            "fields": [spec["path"] for spec in bedtopo_field_specs().values()]}


def bedtopo_evaluation_inputs(wildcards):
    """What the evaluation and the figures compare: predictions, baselines, truth."""
    inputs = {"inputs": "results/bedtopo/inputs.zarr",
              "holdout": "results/bedtopo/holdout.json",
              "deeptoponet": "results/bedtopo/deeptoponet_holdout.nc",
              "baselines": expand("results/bedtopo/baselines/{method}.nc",
                                  method=BEDTOPO_BASELINES),
              "faithful_model": [], "truth": []}
    if BEDTOPO["faithful_protocol"]:
        inputs["faithful_model"] = "results/bedtopo/models/deeptoponet_faithful.pt"
    if SYNTHETIC_BEDTOPO:
        inputs["truth"] = BEDTOPO_TRUTH
    return inputs


def bedtopo_targets(force=False):
    """Bed-topography outputs, when bedtopo.enabled (or forced, for the target rule)."""
    if not (BEDTOPO["enabled"] or force):
        return []
    protocols = ["holdout", "faithful"] if BEDTOPO["faithful_protocol"] else ["holdout"]
    return [
        expand("results/bedtopo/deeptoponet_{protocol}.{ext}", protocol=protocols,
               ext=["nc", "tif"]),
        "results/eval/bedtopo.json",
        "results/figures/bedtopo_maps.png",
        "results/figures/bedtopo_profiles.png",
        "results/figures/bedtopo_training.png",
    ]


# ------------------------------------------------------- climate clustering
CLIMATE = config["climate"]
SYNTHETIC_CLIMATE = CLIMATE["source"] == "synthetic"
CLIMATE_TRUTH_DIR = str(Path(config["synth"]["truth_dir"]) / "climate")
CLIMATE_METHODS = CLIMATE["methods"]
CLIMATE_SEEDS = CLIMATE["seeds"]
# classical methods run as CPU jobs, deep ones as training jobs (a GPU on a cluster)
CLASSICAL_CLIMATE_PATTERN = "|".join(CLASSICAL_METHODS)
DEEP_CLIMATE_PATTERN = "|".join(DEEP_METHODS)


wildcard_constraints:
    clustering="|".join(CLIMATE_METHODS) or "none",
    seed=r"\d+",


def climate_data_files(wildcards):
    """The reanalysis file(s): the synthetic year, or climate.files."""
    if SYNTHETIC_CLIMATE:
        from cryolearn.synth.climate import DATA_FILE

        return [str(Path(CLIMATE["dir"]) / DATA_FILE)]
    if not CLIMATE["files"]:
        raise ValueError("climate.source files needs climate.files (ERA5 NetCDF)")
    return CLIMATE["files"]


def climate_truth():
    """The synthetic regimes' table, or [] for real data (no truth)."""
    return str(Path(CLIMATE_TRUTH_DIR) / "regimes.csv") if SYNTHETIC_CLIMATE else []


def climate_method_settings(wildcards):
    """Only the config a method reads: other methods' settings never rerun its jobs."""
    from cryolearn.climate.methods import method_settings

    return method_settings(wildcards.clustering, CLIMATE)


def climate_runs(method=None):
    """Per-seed clustering files of one method (or of all)."""
    return expand("results/climate/runs/{clustering}/seed{seed}.nc",
                  clustering=[method] if method else CLIMATE_METHODS, seed=CLIMATE_SEEDS)


def climate_figures():
    """Anomaly-map figures of the configured methods (those that run)."""
    methods = [m for m in CLIMATE["figures"]["methods"] if m in CLIMATE_METHODS]
    return expand("results/figures/climate_clusters_{clustering}.png", clustering=methods)


def climate_targets(force=False):
    """Climate-clustering outputs, when climate.enabled (or forced, for the target rule)."""
    if not (CLIMATE["enabled"] or force):
        return []
    return [
        "results/eval/climate.json",
        "results/eval/climate.md",
        expand("results/climate/labels/{clustering}.{ext}", clustering=CLIMATE_METHODS,
               ext=["csv", "nc"]),
        climate_figures(),
    ]
