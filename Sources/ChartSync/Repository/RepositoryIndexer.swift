import ChartSyncArchive
import ChartSyncBasics
import ChartSyncCore
import ChartSyncIndex

/// Why a directory of charts could not be indexed.
public enum RepositoryIndexError: Error, Sendable, CustomStringConvertible {
    /// Two tarballs hold the same chart version.
    case duplicateVersion(chart: String, version: String, files: [String])
    /// A tarball's Chart.yaml is not usable.
    case invalidChart(file: String, reason: String)

    public var description: String {
        switch self {
        case .duplicateVersion(let chart, let version, let files):
            return "chart \(chart) version \(version) is packaged twice: \(files.joined(separator: ", "))"
        case .invalidChart(let file, let reason):
            return "\(file): \(reason)"
        }
    }
}

/// Builds a Helm repository index from a folder of chart tarballs (`helm repo index`), with
/// reproducible output: `created` is the newest entry time inside each tarball and `generated`
/// is `SOURCE_DATE_EPOCH` when given, else the newest `created`.
public struct RepositoryIndexer: Sendable {
    private let onEvent: ChartSyncEventHandler?

    /// Creates an indexer reporting each chart it adds to `onEvent`.
    public init(onEvent: ChartSyncEventHandler? = nil) {
        self.onEvent = onEvent
    }

    /// Reads every `*.tgz` directly in `directory` and writes `output` (default `directory/index.yaml`)
    /// atomically. URLs are the file names, or `baseURL/<file>` when a base URL is given.
    @discardableResult
    public func index(directory: String, baseURL: String? = nil, sourceDateEpoch: Int64? = nil,
                      output: String? = nil) throws -> [IndexWriter.Entry] {
        var entries: [IndexWriter.Entry] = []
        var files: [String: String] = [:]
        var newest: Int64 = 0
        for name in try FileSystem.listDirectory(directory) where name.hasSuffix(".tgz") {
            let path = directory + "/" + name
            guard FileSystem.isRegularFile(path) else { continue }
            let archive = try ChartArchive(path: path)
            let metadata: ChartMetadata
            do {
                metadata = try ChartMetadata(chartYAML: archive.chartFile, source: path + ":" + archive.directory + "/Chart.yaml")
            } catch {
                throw RepositoryIndexError.invalidChart(file: path, reason: error.description)
            }
            let key = metadata.name + "@" + metadata.version
            if let other = files[key] {
                throw RepositoryIndexError.duplicateVersion(chart: metadata.name, version: metadata.version, files: [other, path])
            }
            files[key] = path
            let (digest, _) = try FileSystem.sha256(ofFile: path)
            let url = baseURL.map { RepositoryURL.resolve(base: $0, reference: name) } ?? name
            newest = max(newest, archive.newestModification)
            onEvent?(.indexedChart(name: metadata.name, version: metadata.version, file: name))
            entries.append(IndexWriter.Entry(metadata: metadata, digest: digest, urls: [url],
                                             created: Timestamp.rfc3339(archive.newestModification)))
        }
        let yaml = IndexWriter.yaml(entries: entries, generated: Timestamp.rfc3339(sourceDateEpoch ?? newest))
        try FileSystem.writeAtomically(Array(yaml.utf8), to: output ?? directory + "/index.yaml")
        return entries
    }
}
