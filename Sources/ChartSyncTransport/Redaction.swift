/// `url` without userinfo (`user:password@`) and with the values of secret-looking query
/// parameters (token, password, secret, signature, credential, key, ...) replaced by `REDACTED`.
/// Works on any string, valid URL or not; used for every URL in errors, events and results.
public func redactedURL(_ url: String) -> String {
    var rest = Substring(url)
    var output = ""
    // Scheme and authority.
    if let separator = rest.firstRange(of: "://") {
        output += rest[..<separator.upperBound]
        rest = rest[separator.upperBound...]
    }
    let authorityEnd = rest.firstIndex(where: { $0 == "/" || $0 == "?" || $0 == "#" }) ?? rest.endIndex
    let authority = rest[..<authorityEnd]
    if let at = authority.lastIndex(of: "@") {
        output += authority[authority.index(after: at)...]
    } else {
        output += authority
    }
    rest = rest[authorityEnd...]
    // Path, then query, then fragment.
    guard let question = rest.firstIndex(of: "?") , rest[..<question].firstIndex(of: "#") == nil else {
        return output + rest
    }
    output += rest[...question]
    rest = rest[rest.index(after: question)...]
    let queryEnd = rest.firstIndex(of: "#") ?? rest.endIndex
    let parameters = rest[..<queryEnd].split(separator: "&", omittingEmptySubsequences: false)
    output += parameters.map { parameter -> String in
        guard let equals = parameter.firstIndex(of: "=") else { return String(parameter) }
        let name = parameter[..<equals]
        return isSecretParameter(name) ? name + "=REDACTED" : String(parameter)
    }.joined(separator: "&")
    output += rest[queryEnd...]
    return output
}

/// Whether a query parameter name looks like it carries a secret.
private func isSecretParameter(_ name: Substring) -> Bool {
    let lower = name.lowercased()
    let contained = ["token", "passw", "secret", "signature", "credential", "apikey", "api_key", "api-key", "auth"]
    if contained.contains(where: { lower.contains($0) }) { return true }
    return ["sig", "key", "pass", "pwd", "pw", "code", "session", "sid"].contains(lower)
}

/// `message` with every occurrence of the given secrets (at least 4 characters long) replaced by `***`.
func scrub(_ message: String, secrets: [String]) -> String {
    var message = message
    for secret in secrets where secret.count >= 4 {
        message = message.replacing(secret, with: "***")
    }
    return message
}
