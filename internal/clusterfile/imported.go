package clusterfile

// AnnotationImportedFromHelm marks a cluster file written by `neo4jctl
// import` from Helm releases (its value lists them). With spec.layout:
// helm the chart's objects are adopted in place (docs/import.md). A file
// carrying it without layout: helm (an older import) is refused by plan:
// it would render neo4jctl's own StatefulSet beside the chart's and start
// new, empty servers. For a new cluster elsewhere, remove the annotation.
const AnnotationImportedFromHelm = "neo4jctl.io/imported-from-helm"
