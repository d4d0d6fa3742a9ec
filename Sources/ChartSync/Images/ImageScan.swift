import ChartSyncArchive
import ChartSyncCore
import ChartSyncIndex

/// The container images a chart tarball uses with its default values (and the user's values files,
/// when given), per chart (the chart and each enabled subchart), with where each was found and
/// what could not be determined.
public struct ImageScan: Sendable {
    /// The tarball scanned, as given.
    public let tarball: String
    /// The chart first, then its enabled subcharts depth-first in the order of `charts/`.
    public let charts: [ChartImages]
    /// Subcharts left out because their `condition` or `tags` are false with default values.
    public let disabledSubcharts: [DisabledSubchart]

    /// Every image of every chart, deduplicated and sorted.
    public var images: [ImageReference] { Array(Set(charts.flatMap { $0.images.map(\.reference) })).sorted() }

    /// Every warning of every chart, in chart order.
    public var warnings: [ImageWarning] { charts.flatMap(\.warnings) }
}

/// The images of one chart of a tarball (the chart itself or one subchart instance).
public struct ChartImages: Sendable {
    /// The instance names from the top chart down: `["argo-ci", "argo", "minio"]` (aliases for
    /// aliased subcharts).
    public let path: [String]
    /// The chart's name (Chart.yaml).
    public let chart: String
    /// The chart's version (Chart.yaml).
    public let version: String
    /// The chart's appVersion (Chart.yaml), if any.
    public let appVersion: String?
    /// The images used with default values, deduplicated and sorted.
    public let images: [FoundImage]
    /// Images the chart names but does not use with default values (a template branch that is
    /// off, a values map beside `enabled: false`), sorted; none of them is in `images`.
    public let unused: [FoundImage]
    /// What could not be determined, sorted by file and line.
    public let warnings: [ImageWarning]
}

/// An image and every place it was found.
public struct FoundImage: Sendable, Equatable {
    /// The normalized reference.
    public let reference: ImageReference
    /// Where it was found, sorted.
    public let sources: [ImageSource]
}

/// Where an image reference was found.
public struct ImageSource: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// A values key or a template line.
    public enum Kind: String, Sendable, Hashable {
        /// A key of the chart's values (`key` is set; `file` is the values.yaml it came from).
        case values
        /// A line of a template (`file` and `line`; `key` is nil).
        case template
    }

    /// Values or template.
    public let kind: Kind
    /// The entry name of the file (see ``ChartFiles/entryPrefix``).
    public let file: String
    /// The 1-based line.
    public let line: Int
    /// For values: the dotted key path (`controller.image`, `extraContainers[0].image`).
    public let key: String?
    /// For templates: the `.Values` keys the line read (sorted); for values: empty.
    public let reads: [String]
    /// How the reference was completed or why it is unused, when that needs saying
    /// (`tag from appVersion`, `{{ if .Values.x }} is false`).
    public let note: String?

    /// Creates a source.
    public init(kind: Kind, file: String, line: Int, key: String? = nil, reads: [String] = [], note: String? = nil) {
        self.kind = kind
        self.file = file
        self.line = line
        self.key = key
        self.reads = reads
        self.note = note
    }

    /// `file:line` followed by the key for values, and the note in parentheses.
    public var description: String {
        var text = "\(file):\(line)"
        if let key { text += " \(key)" }
        if let note { text += " (\(note))" }
        return text
    }

    /// Orders by file, line, key.
    public static func < (a: ImageSource, b: ImageSource) -> Bool {
        if a.file != b.file { return a.file < b.file }
        if a.line != b.line { return a.line < b.line }
        return (a.key ?? "") < (b.key ?? "")
    }
}

/// Something image discovery could not determine without rendering the chart, or found wrong.
public struct ImageWarning: Sendable, Hashable, CustomStringConvertible {
    /// The chart instance path joined with ` > ` and the chart version: `argo-ci > argo 0.1.0`.
    public let chart: String
    /// The entry name of the file concerned.
    public let file: String
    /// The 1-based line, when known.
    public let line: Int?
    /// The values key concerned, when it is about a value.
    public let key: String?
    /// What was found and why it is not listed.
    public let message: String

    /// Creates a warning.
    public init(chart: String, file: String, line: Int?, key: String?, message: String) {
        self.chart = chart
        self.file = file
        self.line = line
        self.key = key
        self.message = message
    }

    /// `chart: file:line: key: message`.
    public var description: String {
        var text = "\(chart): \(file)"
        if let line { text += ":\(line)" }
        if let key { text += ": \(key)" }
        return text + ": " + message
    }
}

/// A subchart that is off with default values.
public struct DisabledSubchart: Sendable, Equatable {
    /// The instance names from the top chart down to this subchart.
    public let path: [String]
    /// The subchart's name (Chart.yaml).
    public let chart: String
    /// The subchart's version.
    public let version: String
    /// Why it is off: `condition gfd.enabled is false`, `tags: metrics is false`.
    public let reason: String
}

/// Why a chart tarball could not be scanned for images.
public enum ImageScanError: Error, Sendable, CustomStringConvertible {
    /// The tarball (or a chart archive inside it) could not be read or broke the archive rules or limits.
    case archive(ArchiveError)
    /// A Chart.yaml, requirements.yaml or values.yaml is not valid YAML or was refused by the YAML
    /// limits (alias bombs, nesting); the error names the file.
    case yaml(YAMLError)
    /// The chart's structure is not one Helm loads (`file` names the entry).
    case invalidChart(tarball: String, file: String, message: String)
    /// A values file given with the chart is not one Helm takes (not a mapping).
    case values(file: String, line: Int, message: String)

    public var description: String {
        switch self {
        case .archive(let error): return error.description
        case .yaml(let error): return error.description
        case .invalidChart(let tarball, let file, let message): return "\(tarball): \(file): \(message)"
        case .values(let file, let line, let message): return "\(file): line \(line): \(message)"
        }
    }
}
