/// One challenge of a `WWW-Authenticate` header (RFC 9110 section 11.6.1), e.g.
/// `Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/nginx:pull"`.
struct AuthChallenge: Equatable {
    /// The scheme, lowercased: `bearer`, `basic`.
    let scheme: String
    /// The auth parameters, names lowercased, quoted values unquoted.
    let parameters: [String: String]

    /// Every challenge in the given header values (one header may hold several, separated by commas).
    static func parse(_ values: [String]) -> [AuthChallenge] {
        values.flatMap { parse(Array($0.utf8)) }
    }

    private static func parse(_ text: [UInt8]) -> [AuthChallenge] {
        var challenges: [AuthChallenge] = []
        var index = 0
        func skip(_ set: Set<UInt8>) { while index < text.count, set.contains(text[index]) { index += 1 } }
        func token() -> String {
            let start = index
            while index < text.count, isTokenByte(text[index]) { index += 1 }
            return String(decoding: text[start..<index], as: UTF8.self)
        }
        let spaces: Set<UInt8> = [0x20, 0x09]
        let separators: Set<UInt8> = [0x20, 0x09, UInt8(ascii: ",")]
        while index < text.count {
            skip(separators)
            let scheme = token()
            guard !scheme.isEmpty else { break }
            var parameters: [String: String] = [:]
            while true {
                skip(spaces)
                let mark = index
                let name = token()
                skip(spaces)
                guard !name.isEmpty, index < text.count, text[index] == UInt8(ascii: "=") else {
                    index = mark   // a token68 or the next challenge's scheme
                    break
                }
                index += 1
                skip(spaces)
                var value = ""
                if index < text.count, text[index] == UInt8(ascii: "\"") {
                    index += 1
                    var bytes: [UInt8] = []
                    while index < text.count, text[index] != UInt8(ascii: "\"") {
                        if text[index] == UInt8(ascii: "\\"), index + 1 < text.count { index += 1 }
                        bytes.append(text[index])
                        index += 1
                    }
                    index += 1
                    value = String(decoding: bytes, as: UTF8.self)
                } else {
                    value = token()
                }
                parameters[name.lowercased()] = value
                skip(spaces)
                guard index < text.count, text[index] == UInt8(ascii: ",") else { break }
                index += 1
            }
            // Skip a token68 or anything this parser does not understand, up to the next comma.
            while index < text.count, text[index] != UInt8(ascii: ","),
                  !(parameters.isEmpty == false && isTokenByte(text[index])) {
                index += 1
            }
            challenges.append(AuthChallenge(scheme: scheme.lowercased(), parameters: parameters))
        }
        return challenges
    }

    private static func isTokenByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "a")...UInt8(ascii: "z"),
             UInt8(ascii: "A")...UInt8(ascii: "Z"):
            return true
        default:
            return Array("!#$%&'*+-.^_`|~".utf8).contains(byte)
        }
    }
}
