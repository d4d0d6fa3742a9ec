import ChartSync

/// `images`' result: the `--json` document, and the text lines and warnings without it.
struct ImagesSummary: Encodable {
    /// One image with the charts that use it.
    struct Image: Encodable {
        /// The reference as images.lock records it.
        let image: String
        /// Its pinned digest, if any.
        let digest: String?
        /// The charts that use it.
        let charts: [String]
        /// Whether the chart list's images.extra adds it.
        let extra: Bool
    }

    /// What could not be known without rendering, where it was found.
    struct Warning: Encodable {
        /// The chart.
        let chart: String
        /// The file inside the chart.
        let file: String
        /// The line, when known.
        let line: Int?
        /// The values key, when known.
        let key: String?
        /// What could not be known.
        let message: String
    }

    /// A helmfile release whose values were applied to its chart's scan.
    struct Release: Encodable {
        /// The release's name.
        let release: String
        /// The helmfile file, relative to the project root.
        let file: String
        /// Its line.
        let line: Int
        /// The vendored chart it uses.
        let chart: String
    }

    /// images.lock's path.
    let file: String
    /// `written`, `unchanged` or `current`.
    let status: String
    /// Every image.
    let images: [Image]
    /// Images images.exclude removed.
    let excluded: [String]
    /// What could not be known without rendering.
    let warnings: [Warning]
    /// The helmfile releases whose values were applied (each one more render of its chart).
    let releases: [Release]
    /// Tags resolved to digests in this run.
    let resolved: Int
    /// What `--pull` put in the image store; absent without `--pull`.
    let store: Store?

    /// The image store after `--pull`.
    struct Store: Encodable {
        /// One image as the store holds it.
        struct Image: Encodable {
            /// The name index.json gives it (`registry/repository:tag`).
            let reference: String
            /// The digest index.json points to.
            let digest: String
            /// The upstream digest images.lock pins (differs from `digest` when the index was narrowed to some platforms).
            let sourceDigest: String
            /// The platforms carried; empty for a single-platform image.
            let platforms: [String]
            /// Bytes of every blob it needs.
            let size: Int64
        }

        /// The store's directory.
        let path: String
        /// Every image.
        let images: [Image]
        /// Blobs downloaded and proven in this run, and their bytes.
        let fetched: Int
        let fetchedBytes: Int64
        /// Blobs already there, proven again, and their bytes.
        let reused: Int
        let reusedBytes: Int64
        /// Blobs removed because no image needs them any more.
        let removed: Int
        /// Foreign and non-distributable layers not carried.
        let skipped: [String]

        init(_ report: ImagePullReport, path: String) {
            self.path = path
            images = report.stored.map {
                Image(reference: $0.reference, digest: $0.digest, sourceDigest: $0.sourceDigest, platforms: $0.platforms, size: $0.size)
            }
            fetched = report.fetched
            fetchedBytes = report.fetchedBytes
            reused = report.reused
            reusedBytes = report.reusedBytes
            removed = report.pruned
            skipped = report.skipped.map(\.digest)
        }

        /// The human report: each image with its size, then a summary line.
        var lines: [String] {
            images.map { image in
                "\(image.reference)  \(image.digest)  \(ByteCount.text(image.size))"
                    + (image.platforms.isEmpty ? "" : "  " + image.platforms.joined(separator: ", "))
                    + (image.sourceDigest == image.digest ? "" : "  (narrowed from \(image.sourceDigest))")
            } + ["\(Paths.display(path)): \(images.count) image(s); fetched \(fetched) blob(s) (\(ByteCount.text(fetchedBytes))), "
                 + "proved \(reused) already there (\(ByteCount.text(reusedBytes)))"
                 + (removed > 0 ? ", removed \(removed) no image needs" : "")
                 + (skipped.isEmpty ? "" : ", \(skipped.count) non-distributable layer(s) not carried")]
        }
    }

    /// The document for a run's report on images.lock at `path`.
    init(_ report: ImagesReport, path: String, check: Bool, store: Store? = nil) {
        self.store = store
        file = path
        status = check ? "current" : report.written ? "written" : "unchanged"
        images = report.manifest.images.map {
            Image(image: $0.reference.description, digest: $0.reference.digest, charts: $0.charts, extra: $0.extra)
        }
        excluded = report.expected.excluded.map(\.description)
        warnings = report.expected.warnings.map { Warning(chart: $0.chart, file: $0.file, line: $0.line, key: $0.key, message: $0.message) }
        releases = report.expected.releases.map { Release(release: $0.name, file: $0.file, line: $0.line, chart: $0.chart) }
        resolved = report.resolved
    }

    /// The warnings for stderr: what the scan could not know, and images.exclude entries of the
    /// chart list (at `chartList`) that match no image.
    static func warnings(_ report: ImagesReport, chartList: String) -> [String] {
        report.expected.warnings.map { "warning: \($0)" }
            + report.expected.unmatchedExcludes.map {
                "warning: \(Paths.display(chartList)):\($0.line): images.exclude \($0.text) matches no image"
            }
    }

    /// The human report: each image with the charts that use it, then a summary line.
    static func lines(_ report: ImagesReport, path: String, check: Bool) -> [String] {
        var lines = report.manifest.images.map { image in
            let users = image.charts + (image.extra ? ["(images.extra)"] : [])
            return "\(image.reference)  \(users.joined(separator: ", "))"
        }
        let pinned = report.manifest.images.filter { $0.reference.digest != nil }.count
        let verb = check ? "is current" : report.written ? "written" : "unchanged"
        lines.append("\(Paths.display(path)) \(verb): \(report.manifest.images.count) image(s), \(pinned) pinned by digest"
            + (report.expected.excluded.isEmpty ? "" : ", \(report.expected.excluded.count) excluded")
            + (report.expected.releases.isEmpty ? "" : ", with the values of \(report.expected.releases.count) helmfile release(s)")
            + (report.resolved > 0 ? "; \(report.resolved) resolved" : ""))
        return lines
    }
}
