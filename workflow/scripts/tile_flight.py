from cryolearn.crevasse.library.tiles import tile_flight
from cryolearn.logs import logged

with logged(snakemake.log[0]) as log:
    n = tile_flight(snakemake.input.frames, snakemake.output[0],
                    flight=snakemake.wildcards.flight,
                    assume_crs=snakemake.params.assume_crs,
                    stride_px=snakemake.params.stride_px,
                    max_pixel_m=snakemake.params.max_pixel_m)
    log.info("flight %s: %d tiles", snakemake.wildcards.flight, n)
