import ChartSync
import ChartSyncCore
import ChartSyncTransport

extension Puller {
    /// A puller whose libcurl and registry clients report retries, redirects and insecure TLS on
    /// the terminal (the details only with `verbose`), for the commands that ask repositories.
    static func terminal(layout: ProjectLayout, cancellation: Cancellation, onEvent: ChartSyncEventHandler? = nil,
                         verbose: Bool = false) -> Puller {
        Puller(layout: layout, cancellation: cancellation, onEvent: onEvent, makeClient: { options, cancellation in
            CurlHTTPClient(options: options, onEvent: Terminal.transportHandler(verbose: verbose), cancellation: cancellation)
        }, onRegistryEvent: Terminal.transportHandler(verbose: verbose))
    }
}
