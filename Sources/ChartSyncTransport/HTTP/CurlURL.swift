internal import CCurl
import ChartSyncCore

/// A URL checked and normalized by libcurl's URL API, with its userinfo taken out.
struct CurlURL: Equatable {
    /// The normalized URL without userinfo: what is handed to libcurl.
    let url: String
    /// The lowercased scheme: http, https or file.
    let scheme: String
    /// The lowercased host ("" for file URLs without one).
    let host: String
    /// The port, the scheme's default when none is written ("" for file URLs).
    let port: String
    /// The URL-decoded user name of the userinfo, if any.
    let username: String?
    /// The URL-decoded password of the userinfo, if any.
    let password: String?

    /// Whether scheme, host and port are the same (the origin credentials are bound to).
    func sameOrigin(as other: CurlURL) -> Bool {
        scheme == other.scheme && host == other.host && port == other.port
    }

    /// The schemes fetch accepts.
    static let supportedSchemes: Set<String> = ["http", "https", "file"]

    /// Parses `text`: `invalidURL` when it is no URL, `unsupportedScheme` when its scheme is not supported.
    static func parse(_ text: String) throws(TransportError) -> CurlURL {
        guard let separator = text.firstRange(of: "://"), separator.lowerBound > text.startIndex else {
            throw .invalidURL(RepositoryURL.redacted(text))
        }
        let scheme = text[..<separator.lowerBound].lowercased()
        guard scheme.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "+-.".contains($0)) }),
              scheme.first?.isLetter == true
        else { throw .invalidURL(RepositoryURL.redacted(text)) }
        guard supportedSchemes.contains(scheme) else { throw .unsupportedScheme(url: RepositoryURL.redacted(text)) }
        guard !text.utf8.contains(where: { $0 < 0x21 || $0 == 0x7f }) else { throw .invalidURL(RepositoryURL.redacted(text)) }

        guard let handle = curl_url() else { throw .invalidURL(RepositoryURL.redacted(text)) }
        defer { curl_url_cleanup(handle) }
        guard curl_url_set(handle, CURLUPART_URL, text, 0) == CURLUE_OK else {
            throw .invalidURL(RepositoryURL.redacted(text))
        }
        let username = part(handle, CURLUPART_USER, flags: UInt32(CURLU_URLDECODE))
        let password = part(handle, CURLUPART_PASSWORD, flags: UInt32(CURLU_URLDECODE))
        _ = curl_url_set(handle, CURLUPART_USER, nil, 0)
        _ = curl_url_set(handle, CURLUPART_PASSWORD, nil, 0)
        _ = curl_url_set(handle, CURLUPART_OPTIONS, nil, 0)
        guard let normalized = part(handle, CURLUPART_URL, flags: 0) else { throw .invalidURL(RepositoryURL.redacted(text)) }
        let host = (part(handle, CURLUPART_HOST, flags: 0) ?? "").lowercased()
        let port = part(handle, CURLUPART_PORT, flags: UInt32(CURLU_DEFAULT_PORT)) ?? ""
        if scheme != "file" && host.isEmpty { throw .invalidURL(RepositoryURL.redacted(text)) }
        return CurlURL(url: normalized, scheme: scheme, host: host, port: port,
                       username: username, password: password)
    }

    private static func part(_ handle: OpaquePointer, _ what: CURLUPart, flags: UInt32) -> String? {
        var pointer: UnsafeMutablePointer<CChar>?
        guard curl_url_get(handle, what, &pointer, flags) == CURLUE_OK, let pointer else { return nil }
        defer { curl_free(pointer) }
        return String(cString: pointer)
    }
}
