import ArgumentParser
import ChartSyncArchive

/// `--compression zstd|gzip|none`: the library's compression read by its raw value; unknown
/// values are usage errors that list the valid ones.
extension BundleCompression: ExpressibleByArgument {}
