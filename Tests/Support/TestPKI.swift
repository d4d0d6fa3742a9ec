import Foundation

/// A throwaway certificate authority made with the `openssl` CLI at test time: a CA, a server
/// certificate for 127.0.0.1 and localhost, and a client certificate for mutual TLS (EC P-256).
public struct TestPKI: Sendable {
    /// The CA certificate (PEM): pass it as the trusted CA file.
    public let caFile: String
    /// The server certificate (PEM), SANs IP:127.0.0.1 and DNS:localhost.
    public let serverCertFile: String
    /// The server private key (PEM).
    public let serverKeyFile: String
    /// A client certificate (PEM) signed by the CA, for mutual TLS.
    public let clientCertFile: String
    /// The client private key (PEM).
    public let clientKeyFile: String

    /// Generates the CA and certificates into `directory` (which must exist).
    public static func generate(in directory: String) throws -> TestPKI {
        let config = directory + "/openssl.cnf"
        try """
        [req]
        distinguished_name = dn
        prompt = no
        [dn]
        CN = chartsync test
        [v3_ca]
        basicConstraints = critical,CA:TRUE
        keyUsage = critical,keyCertSign,cRLSign
        subjectKeyIdentifier = hash
        [v3_server]
        basicConstraints = CA:FALSE
        keyUsage = critical,digitalSignature,keyEncipherment
        extendedKeyUsage = serverAuth
        subjectAltName = IP:127.0.0.1,DNS:localhost
        authorityKeyIdentifier = keyid
        [v3_client]
        basicConstraints = CA:FALSE
        keyUsage = critical,digitalSignature
        extendedKeyUsage = clientAuth
        authorityKeyIdentifier = keyid

        """.write(toFile: config, atomically: false, encoding: .utf8)
        let pki = TestPKI(
            caFile: directory + "/ca.pem", serverCertFile: directory + "/server.pem",
            serverKeyFile: directory + "/server.key", clientCertFile: directory + "/client.pem",
            clientKeyFile: directory + "/client.key")
        let key = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
        try runCommand(["openssl", "req", "-x509", "-config", config, "-extensions", "v3_ca"] + key + [
            "-keyout", directory + "/ca.key", "-out", pki.caFile, "-days", "2", "-subj", "/CN=chartsync test CA",
        ])
        for (name, extensions, subject) in [("server", "v3_server", "/CN=127.0.0.1"),
                                            ("client", "v3_client", "/CN=chartsync test client")] {
            try runCommand(["openssl", "req", "-new", "-config", config] + key + [
                "-keyout", "\(directory)/\(name).key", "-out", "\(directory)/\(name).csr", "-subj", subject,
            ])
            try runCommand([
                "openssl", "x509", "-req", "-in", "\(directory)/\(name).csr", "-CA", pki.caFile,
                "-CAkey", directory + "/ca.key", "-set_serial", String(UInt32.random(in: 1...UInt32.max)),
                "-days", "2", "-extfile", config, "-extensions", extensions, "-out", "\(directory)/\(name).pem",
            ])
        }
        return pki
    }
}
