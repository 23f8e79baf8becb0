import KokiSecrets

/// The keyring every process in these tests runs with (a test key, sealing synthetic numbers only).
enum TestKeys {
    static let keyring = "k-test wqN2sZqtKEZy2nSx1l3HAbb0ALR/kggpTuwx1h0i8fE=;lookup eUy7vjChxSwr6cXT7ekpf7CSzQqU2462OKYlW+o6af8="
    static let vault = try! MyNumberVault(keyring: keyring)
}
