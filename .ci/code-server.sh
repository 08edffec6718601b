#!/usr/bin/env bash
# Installs code-server (a real VS Code, 1.100.3) offline-style, for the VS Code end-to-end test.
# Cached outside the clone, keyed by version: a second run finds it and returns at once.
# Recipe: ../shared/PITFALLS.md (npm refuses install scripts as root; @vscode/ripgrep's
# postinstall downloads a binary, so Debian's rg is copied in instead).
set -euo pipefail
VERSION="${CODE_SERVER_VERSION:-4.100.3}"
CACHE="${SPARK_LSP_CACHE:-/var/cache/spark-lsp}"
DEST="$CACHE/code-server-$VERSION"
if [ -f "$DEST/.installed" ]; then
  echo "code-server $VERSION: cached in $DEST"
  exit 0
fi
rm -rf "$DEST" && mkdir -p "$DEST" && cd "$DEST"
export npm_config_nodedir="${npm_config_nodedir:-/usr}"
# node-pty's postinstall runs `npx node-gyp configure`, which would stop to ask.
export npm_config_yes=true
echo '{}' > package.json
npm install --no-audit --no-fund --ignore-scripts "code-server@$VERSION"
cd node_modules/code-server/lib/vscode
npm install --no-audit --no-fund --omit=dev --ignore-scripts
mkdir -p node_modules/@vscode/ripgrep/bin && cp "$(command -v rg)" node_modules/@vscode/ripgrep/bin/rg
npm rebuild --foreground-scripts @vscode/spdlog kerberos native-watchdog node-pty \
  @vscode/deviceid @parcel/watcher
ln -sfn node_modules node_modules.asar
(cd bin/remote-cli && ln -sfn code-linux.sh code-server)
(cd bin/helpers && ln -sfn browser-linux.sh browser.sh)
(cd extensions && npm install --no-audit --no-fund --omit=dev)
cd "$DEST" && npm rebuild argon2
"$DEST/node_modules/.bin/code-server" --version
touch "$DEST/.installed"
echo "code-server $VERSION: installed in $DEST"
