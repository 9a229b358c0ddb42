package clusterfile

// AnnotationImportedFromHelm marks a cluster file written by `neo4jctl
// import` from Helm releases (its value lists them). neo4jctl does not yet
// adopt the chart's objects in place (docs/import.md): applying such a file
// would render neo4jctl's own StatefulSet beside the chart's and start new,
// empty servers. plan refuses it until the adopted layout exists; for a new
// cluster elsewhere, remove the annotation.
const AnnotationImportedFromHelm = "neo4jctl.io/imported-from-helm"
