from cryolearn.classes import CREVASSED_CLASSES
from cryolearn.crevasse.evaluate.labels import label_by_synthetic_truth
from cryolearn.crevasse.surfaces.labels import write_labels
from cryolearn.logs import logged

with logged(snakemake.log[0]) as log:
    labels, notes = label_by_synthetic_truth(snakemake.input.clusters, list(snakemake.input.truth),
                                             CREVASSED_CLASSES)
    write_labels(snakemake.output[0], labels, notes)
    crevassed = sum(name == "crevasse" for name in labels.labels.values())
    log.info("labelled %d clusters from synthetic truth, %d as crevasse",
             len(labels.labels), crevassed)
