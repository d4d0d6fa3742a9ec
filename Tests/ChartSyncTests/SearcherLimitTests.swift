import ChartSync
import ChartSyncTestSupport
import ChartSyncTransport
import Foundation
import Testing

/// The library's `Searcher` with its limits, against a real server.
@Suite struct SearcherLimitTests {
    @Test func indexLargerThanTheCapIsRefused() throws {
        let nginx = try StaticServer(root: Fixtures.path("repo-argo-helm"))
        defer { nginx.stop() }
        let searcher = Searcher(client: CurlHTTPClient(), maxIndexBytes: 1 << 20)
        #expect {
            try searcher.search(SearchQuery(repository: nginx.url(""), chart: "argo-cd"))
        } throws: { error in
            guard let error = error as? TransportError, case .sizeLimitExceeded = error else { return false }
            return error.description.contains(nginx.url("index.yaml"))
        }
        // The full 1.5 MB index is fine under the default cap.
        let found = try Searcher(client: CurlHTTPClient()).search(SearchQuery(repository: nginx.url(""), chart: "argo-cd"))
        #expect(found.count == 1)
    }
}
