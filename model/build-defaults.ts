// The images a generated build uses when the plan names none: Testground's own defaults
// (its docker:go and docker:node builders), so a composition builds as it did there.

/** The Go build stage. */
export const GO_BASE_IMAGE = 'golang:1.16-buster';
/** The image a Go program is copied into. */
export const GO_RUNTIME_IMAGE = 'busybox:1.35.0-glibc';
/** The Node.js build. */
export const NODE_BASE_IMAGE = 'node:16-buster';
