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
    /// Tags resolved to digests in this run.
    let resolved: Int

    /// The document for a run's report on images.lock at `path`.
    init(_ report: ImagesReport, path: String, check: Bool) {
        file = path
        status = check ? "current" : report.written ? "written" : "unchanged"
        images = report.manifest.images.map {
            Image(image: $0.reference.description, digest: $0.reference.digest, charts: $0.charts, extra: $0.extra)
        }
        excluded = report.expected.excluded.map(\.description)
        warnings = report.expected.warnings.map { Warning(chart: $0.chart, file: $0.file, line: $0.line, key: $0.key, message: $0.message) }
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
            + (report.resolved > 0 ? "; \(report.resolved) resolved" : ""))
        return lines
    }
}
