from cryolearn.crevasse.figures.maps import plot_change_maps, plot_yearly_maps, read_backdrop
from cryolearn.logs import logged

with logged(snakemake.log[0]):
    backdrop = read_backdrop(snakemake.input.background[0] if snakemake.input.background
                             else None)
    plot_yearly_maps(dict(zip(snakemake.params.years, snakemake.input.maps, strict=True)),
                     backdrop, snakemake.output.maps)
    pairs = [tuple(pair) for pair in snakemake.params.change_pairs]
    plot_change_maps(dict(zip(pairs, snakemake.input.changes, strict=True)), backdrop,
                     snakemake.output.changes)
