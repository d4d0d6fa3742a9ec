import ChartSyncBasics
import ChartSyncCore
import ChartSyncIndex
import ChartSyncTransport

/// Downloads a repository's index.yaml into a private temporary directory (streamed, capped)
/// and reads the charts asked for; the temporary copy is removed before returning.
struct IndexFetcher {
    let client: any HTTPClient
    let onEvent: ChartSyncEventHandler?
    let maxIndexBytes: Int64

    func fetch(repository: String, credentials: Credentials?, charts: Set<String>?) throws -> IndexFile {
        let url = RepositoryURL.index(of: repository)
        let shown = RepositoryURL.redacted(url)
        onEvent?(.fetchingIndex(url: shown))
        let directory = try FileSystem.makeTemporaryDirectory(prefix: "chartsync-index")
        defer { FileSystem.removeTree(directory) }
        let path = directory + "/index.yaml"
        let onEvent = onEvent
        let progress = onEvent.map { report in TransferProgress { report(.indexProgress(url: shown, bytes: $0)) } }
        let result = try client.fetch(TransferRequest(url: url, credentials: credentials, maxBytes: maxIndexBytes,
                                                      progress: progress), to: path)
        let index = try IndexReader().read(contentsOf: path, source: shown, charts: charts) { onEvent?(.indexWarning($0)) }
        onEvent?(.readIndex(url: shown, bytes: result.bytes, charts: index.entries.count))
        return index
    }
}
