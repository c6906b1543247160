# fish completion for aimo. Install: copy to ~/.config/fish/completions/aimo.fish, or run
#   aimo completion fish | source

set -l commands chat serve list-models router connect doctor config agent state stats audit cache status keygen address completion help
complete -c aimo -f
complete -c aimo -n "not __fish_seen_subcommand_from $commands" -a "$commands"
complete -c aimo -n "not __fish_seen_subcommand_from $commands" -l version -d "Print the version"
complete -c aimo -l help -d "Show help"

# Flags shared by everything that talks to the router.
for cmd in chat serve list-models router connect doctor show check
    complete -c aimo -n "__fish_seen_subcommand_from $cmd" -l keypair -r -F -d "Keypair file"
    complete -c aimo -n "__fish_seen_subcommand_from $cmd" -l router-url -r -d "Router URL"
    complete -c aimo -n "__fish_seen_subcommand_from $cmd" -l chain-id -r -d "Chain id"
    complete -c aimo -n "__fish_seen_subcommand_from $cmd" -l ca-file -r -F -d "CA certificates"
end
for cmd in chat serve connect doctor status show check
    complete -c aimo -n "__fish_seen_subcommand_from $cmd" -l host -r -d "Listen address"
    complete -c aimo -n "__fish_seen_subcommand_from $cmd" -l port -r -d "Proxy port"
end
for cmd in chat serve show check
    complete -c aimo -n "__fish_seen_subcommand_from $cmd" -l models-cache-ttl -r
    complete -c aimo -n "__fish_seen_subcommand_from $cmd" -l max-body-bytes -r
    complete -c aimo -n "__fish_seen_subcommand_from $cmd" -l drain-timeout -r
    complete -c aimo -n "__fish_seen_subcommand_from $cmd" -l max-connections -r
    complete -c aimo -n "__fish_seen_subcommand_from $cmd" -l header-timeout -r
    complete -c aimo -n "__fish_seen_subcommand_from $cmd" -l body-timeout -r
    complete -c aimo -n "__fish_seen_subcommand_from $cmd" -l idle-timeout -r
    complete -c aimo -n "__fish_seen_subcommand_from $cmd" -l connect-timeout -r
    complete -c aimo -n "__fish_seen_subcommand_from $cmd" -l read-timeout -r
    complete -c aimo -n "__fish_seen_subcommand_from $cmd" -l log-format -r -a "text json off"
    complete -c aimo -n "__fish_seen_subcommand_from $cmd" -l signature-reuse-ms -r
    complete -c aimo -n "__fish_seen_subcommand_from $cmd" -l stream-keepalive-ms -r
    complete -c aimo -n "__fish_seen_subcommand_from $cmd" -l config-poll-ms -r
    complete -c aimo -n "__fish_seen_subcommand_from $cmd" -l state-lease-ms -r -d "Hold expiry in ms"
    complete -c aimo -n "__fish_seen_subcommand_from $cmd" -l ui-admin -r -a "true false" -d "Dashboard owner actions"
end
for cmd in chat serve show check agent stats audit cache
    complete -c aimo -n "__fish_seen_subcommand_from $cmd" -l database -r -F -d "Usage database or off"
end
for cmd in chat serve show check agent doctor state
    complete -c aimo -n "__fish_seen_subcommand_from $cmd" -l state -r -d "Shared state server (redis://…)"
end

complete -c aimo -n "__fish_seen_subcommand_from chat" -l serve -d "Run the proxy"
complete -c aimo -n "__fish_seen_subcommand_from chat" -s m -l model -r -d "Model id"
complete -c aimo -n "__fish_seen_subcommand_from chat" -l message -r -d "One message"
complete -c aimo -n "__fish_seen_subcommand_from chat" -l system -r -d "System prompt"

complete -c aimo -n "__fish_seen_subcommand_from router; and not __fish_seen_subcommand_from list-models get-balance" -a "list-models get-balance"
complete -c aimo -n "__fish_seen_subcommand_from list-models get-balance doctor keygen show" -l json -d "JSON output"
complete -c aimo -n "__fish_seen_subcommand_from config; and not __fish_seen_subcommand_from path show check" -a "path show check"

complete -c aimo -n "__fish_seen_subcommand_from connect; and not __fish_seen_subcommand_from openclaw claude-code codex" -a "openclaw claude-code codex"
for client in claude-code codex
    complete -c aimo -n "__fish_seen_subcommand_from $client" -l model -r -d "Model the client asks for"
    complete -c aimo -n "__fish_seen_subcommand_from $client" -l api-key -r
    complete -c aimo -n "__fish_seen_subcommand_from $client" -l write -d "Write the client's settings"
    complete -c aimo -n "__fish_seen_subcommand_from $client" -l json
    complete -c aimo -n "__fish_seen_subcommand_from $client" -l disconnect
end
complete -c aimo -n "__fish_seen_subcommand_from codex" -l profile -r -d "Codex profile name"
complete -c aimo -n "__fish_seen_subcommand_from openclaw" -l model -r -d "Default model"
complete -c aimo -n "__fish_seen_subcommand_from openclaw" -l config-path -r -F -d "OpenClaw config"
complete -c aimo -n "__fish_seen_subcommand_from openclaw" -l provider-id -r
complete -c aimo -n "__fish_seen_subcommand_from openclaw" -l api-key -r
complete -c aimo -n "__fish_seen_subcommand_from openclaw" -l api -r -f -a "openai-completions openai-responses anthropic-messages"
complete -c aimo -n "__fish_seen_subcommand_from openclaw" -l no-default
complete -c aimo -n "__fish_seen_subcommand_from openclaw" -l dry-run
complete -c aimo -n "__fish_seen_subcommand_from openclaw" -l json
complete -c aimo -n "__fish_seen_subcommand_from openclaw" -l disconnect

for cmd in chat serve
    complete -c aimo -n "__fish_seen_subcommand_from $cmd" -l require-auth -d "Demand agent tokens"
    complete -c aimo -n "__fish_seen_subcommand_from $cmd" -l insecure-no-auth -d "Allow open non-loopback"
end

complete -c aimo -n "__fish_seen_subcommand_from agent; and not __fish_seen_subcommand_from create list show update revoke" -a "create list show update revoke"
complete -c aimo -n "__fish_seen_subcommand_from create update" -l budget -r -d "USD or none"
complete -c aimo -n "__fish_seen_subcommand_from create update" -l rpm -r -d "Requests per minute"
complete -c aimo -n "__fish_seen_subcommand_from create update" -l tpm -r -d "Tokens per minute"
complete -c aimo -n "__fish_seen_subcommand_from create update" -l weight -r -d "Share of a busy provider (1-100)"
complete -c aimo -n "__fish_seen_subcommand_from create update" -l models -r -d "Allowed models"
complete -c aimo -n "__fish_seen_subcommand_from create update list stats verify tail owner status" -l json -d "JSON output"
complete -c aimo -n "__fish_seen_subcommand_from stats" -l by -r -a "agent model provider client dialect day"
complete -c aimo -n "__fish_seen_subcommand_from stats" -l since -r -d "Date, time or span"
complete -c aimo -n "__fish_seen_subcommand_from audit; and not __fish_seen_subcommand_from verify tail owner" -a "verify tail owner"
complete -c aimo -n "__fish_seen_subcommand_from cache; and not __fish_seen_subcommand_from stats clear" -a "stats clear"
complete -c aimo -n "__fish_seen_subcommand_from state; and not __fish_seen_subcommand_from show import" -a "show import"
complete -c aimo -n "__fish_seen_subcommand_from import" -l database -r -F -d "Local database to copy"
complete -c aimo -n "__fish_seen_subcommand_from import" -l json -d "JSON output"
complete -c aimo -n "__fish_seen_subcommand_from clear" -l agent -r -d "Only this agent's answers"
complete -c aimo -n "__fish_seen_subcommand_from tail" -s n -l lines -r -d "How many"
complete -c aimo -n "__fish_seen_subcommand_from tail" -s f -l follow -d "Keep printing"

complete -c aimo -n "__fish_seen_subcommand_from status" -l token -r -d "An agent's token"
complete -c aimo -n "__fish_seen_subcommand_from keygen" -l force -d "Replace the keypair"
complete -c aimo -n "__fish_seen_subcommand_from address keygen" -l keypair -r -F
complete -c aimo -n "__fish_seen_subcommand_from completion" -a "bash zsh fish"
complete -c aimo -n "__fish_seen_subcommand_from help" -a "$commands"
