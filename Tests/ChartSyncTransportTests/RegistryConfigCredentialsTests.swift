import ChartSyncTestSupport
@testable import ChartSyncTransport
import Foundation
import Testing

/// base64 of `text`, by Foundation (independent of the code under test).
private func b64(_ text: String) -> String { Data(text.utf8).base64EncodedString() }

/// Writes `text` to `path`, creating its directory.
private func write(_ text: String, to path: String) throws {
    try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent,
                                            withIntermediateDirectories: true)
    try text.write(toFile: path, atomically: false, encoding: .utf8)
}

@Suite("Registry credentials from docker login and helm registry login")
struct RegistryConfigCredentialsTests {
    @Test("which files are read, in precedence order", arguments: [
        (["HOME": "/h"], ["/h/.config/helm/registry/config.json", "/h/.docker/config.json"]),
        (["HOME": "/h", "DOCKER_CONFIG": "/d"], ["/h/.config/helm/registry/config.json", "/d/config.json"]),
        (["HOME": "/h", "XDG_CONFIG_HOME": "/x"], ["/x/helm/registry/config.json", "/h/.docker/config.json"]),
        (["HOME": "/h", "XDG_CONFIG_HOME": "/x", "HELM_CONFIG_HOME": "/c"], ["/c/registry/config.json", "/h/.docker/config.json"]),
        (["HOME": "/h", "HELM_CONFIG_HOME": "/c", "HELM_REGISTRY_CONFIG": "/r.json"], ["/r.json", "/h/.docker/config.json"]),
        (["HOME": "", "DOCKER_CONFIG": "/d"], ["/d/config.json"]),
        ([:], []),
    ])
    func files(environment: [String: String], expected: [String]) {
        #expect(RegistryConfigCredentials.files(environment: environment) == expected)
    }

    @Test("Helm's file wins over Docker's; auth, username/password and registrytoken; helpers and empty entries are skipped")
    func load() throws {
        let home = try TemporaryDirectory()
        try write("""
        {"auths":{
          "charts.example.com":{"auth":"\(b64("helm-user:helm:pw"))"},
          "127.0.0.1:5000":{"username":"robot$ci","password":"robot-secret"}
        }}
        """, to: home.file(".config/helm/registry/config.json"))
        try write("""
        {"auths":{
          "charts.example.com":{"auth":"\(b64("docker-user:docker-pw"))"},
          "https://index.docker.io/v1/":{"auth":"\(b64("hub-user:hub-pw"))"},
          "https://Quay.IO":{"auth":"\(b64("quay-user:quay-pw"))","email":"x@example.com"},
          "ghcr.io":{"registrytoken":"ghcr-bearer-token"},
          "oauth.example.com":{"identitytoken":"refresh-token-unused"},
          "helper.example.com":{},
          "padless.example.com":{"auth":"\(b64("ab:cd").replacingOccurrences(of: "=", with: ""))"}
        },
         "credsStore":"desktop","credHelpers":{"gcr.io":"gcloud"}}
        """, to: home.file(".docker/config.json"))
        let found = try RegistryConfigCredentials.load(environment: ["HOME": home.path])
        #expect(found == [
            "charts.example.com": .basic(username: "helm-user", password: "helm:pw"),
            "127.0.0.1:5000": .basic(username: "robot$ci", password: "robot-secret"),
            "docker.io": .basic(username: "hub-user", password: "hub-pw"),
            "quay.io": .basic(username: "quay-user", password: "quay-pw"),
            "ghcr.io": .bearer(token: "ghcr-bearer-token"),
            "padless.example.com": .basic(username: "ab", password: "cd"),
        ])
    }

    @Test("DOCKER_CONFIG and HELM_REGISTRY_CONFIG replace the files under HOME")
    func environmentOverrides() throws {
        let home = try TemporaryDirectory()
        let elsewhere = try TemporaryDirectory()
        try write(#"{"auths":{"a.example":{"auth":"\#(b64("home:1"))"}}}"#, to: home.file(".docker/config.json"))
        try write(#"{"auths":{"a.example":{"auth":"\#(b64("home-helm:1"))"}}}"#, to: home.file(".config/helm/registry/config.json"))
        try write(#"{"auths":{"b.example":{"auth":"\#(b64("docker:2"))"}}}"#, to: elsewhere.file("docker/config.json"))
        try write(#"{"auths":{"c.example":{"auth":"\#(b64("helm:3"))"}}}"#, to: elsewhere.file("helm.json"))
        let found = try RegistryConfigCredentials.load(environment: [
            "HOME": home.path, "DOCKER_CONFIG": elsewhere.file("docker"), "HELM_REGISTRY_CONFIG": elsewhere.file("helm.json"),
        ])
        #expect(found == ["b.example": .basic(username: "docker", password: "2"),
                          "c.example": .basic(username: "helm", password: "3")])
        // No files at all: nothing, no error.
        #expect(try RegistryConfigCredentials.load(environment: ["HOME": elsewhere.file("nothing")]).isEmpty)
    }

    @Test("a URL key and a host key for one registry: the host key wins")
    func duplicateKeys() throws {
        let text = #"{"auths":{"https://r.example/v2/":{"auth":"\#(b64("url:1"))"},"r.example":{"auth":"\#(b64("host:2"))"}}}"#
        #expect(try RegistryConfigCredentials.parse(Array(text.utf8), path: "c.json")
            == ["r.example": .basic(username: "host", password: "2")])
    }

    @Test("malformed files are errors naming the file and the key, never the secret", arguments: [
        (#"{"auths":{"r.example":{"auth":"c2VjcmV0LXZhbHVl!!"}}}"#, #"auths."r.example".auth is not base64"#),
        (#"{"auths":{"r.example":{"auth":"\#(b64("no-colon-secret"))"}}}"#, "does not decode to user:password"),
        (#"{"auths":{"r.example":{"auth":"\#(b64(":empty-user-secret"))"}}}"#, "does not decode to user:password"),
        (#"{"auths":{"r.example":{"auth":"c2VjcmV0LXZhbHVlx"}}}"#, "is not base64"),
        (#"{"auths":{"r.example":{"auth":"c2VjcmV0=LXZhbHVl"}}}"#, "is not base64"),
        (#"{"auths":{"r.example":{"auth":42}}}"#, #"auths."r.example".auth is not a string"#),
        (#"{"auths":{"r.example":"c2VjcmV0LXZhbHVl"}}"#, #"auths."r.example" is not an object"#),
        (#"{"auths":["c2VjcmV0LXZhbHVl"]}"#, #""auths" is not an object"#),
        ("c2VjcmV0LXZhbHVl", "not a JSON object"),
    ])
    func malformed(text: String, message: String) throws {
        let home = try TemporaryDirectory()
        let file = home.file(".docker/config.json")
        try write(text, to: file)
        do {
            let found = try RegistryConfigCredentials.load(environment: ["HOME": home.path])
            Issue.record("expected an error, got \(found.keys)")
        } catch {
            guard case let .malformedRegistryConfig(path, text) = error else {
                Issue.record("expected malformedRegistryConfig, got \(error)")
                return
            }
            #expect(path == file)
            #expect(text.contains(message), "\(text)")
            #expect(error.description.contains(file))
            for secret in ["c2VjcmV0LXZhbHVl", "secret", "no-colon", "empty-user"] {
                #expect(!error.description.contains(secret))
            }
        }
    }

    @Test("an unreadable config file is an error naming it")
    func unreadable() throws {
        let home = try TemporaryDirectory()
        try FileManager.default.createDirectory(atPath: home.file(".docker/config.json"), withIntermediateDirectories: true)
        #expect(throws: CredentialsError.unreadable(path: home.file(".docker/config.json"), message: "not a regular file")) {
            try RegistryConfigCredentials.load(environment: ["HOME": home.path])
        }
    }

    @Test("registry names from auths keys", arguments: [
        ("registry.example.com", "registry.example.com"), ("https://registry.example.com", "registry.example.com"),
        ("http://127.0.0.1:5000/v2/", "127.0.0.1:5000"), ("https://index.docker.io/v1/", "docker.io"),
        ("registry-1.docker.io", "docker.io"), ("Harbor.Example.COM:8443", "harbor.example.com:8443"),
    ])
    func registryNames(key: String, name: String) {
        #expect(RegistryConfigCredentials.registryName(forKey: key) == name)
    }

    @Test("base64 decodes as Go's StdEncoding does (padding optional here)", arguments: [
        ("", Optional("")), ("YQ==", "a"), ("YQ", "a"), ("YWI=", "ab"), ("YWJj", "abc"), ("YWJjZA==", "abcd"),
        ("YW\nJj", "abc"), ("YQ=", nil), ("Y", nil), ("YQ==YQ==", nil), ("YW Jj", nil), ("YW-j", nil), ("YQ===", nil),
    ])
    func base64(text: String, expected: String?) {
        #expect(Base64.decode(text).map { String(decoding: $0, as: UTF8.self) } == expected)
    }
}
