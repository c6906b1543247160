# bash completion for aimo                                  -*- shell-script -*-
# Install: copy to ~/.local/share/bash-completion/completions/aimo, or run
#   source <(aimo completion bash)

_aimo() {
    local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD - 1]}
    local commands="chat serve list-models router connect doctor config agent state stats audit cache status keygen address completion help"
    local router_flags="--keypair --router-url --chain-id --ca-file"
    local settings="--host --port $router_flags --models-cache-ttl --max-body-bytes --drain-timeout --max-connections --header-timeout --body-timeout --idle-timeout --connect-timeout --read-timeout --log-format --signature-reuse-ms --stream-keepalive-ms --config-poll-ms --database --state --state-lease-ms --ui-admin"
    local takes_value=" --host --port --keypair --router-url --chain-id --ca-file --models-cache-ttl --max-body-bytes --drain-timeout --max-connections --header-timeout --body-timeout --idle-timeout --connect-timeout --read-timeout --log-format --signature-reuse-ms --stream-keepalive-ms --config-poll-ms --database --state --state-lease-ms --ui-admin --model -m --message --system --config-path --provider-id --api-key --api --profile --budget --rpm --tpm --models --weight --token --by --since -n --lines --agent "

    case $prev in
        --keypair | --ca-file | --config-path | --database)
            mapfile -t COMPREPLY < <(compgen -f -- "$cur")
            return ;;
        --log-format)
            mapfile -t COMPREPLY < <(compgen -W "text json off" -- "$cur")
            return ;;
        --api)
            mapfile -t COMPREPLY < <(compgen -W "openai-completions openai-responses anthropic-messages" -- "$cur")
            return ;;
        --by)
            mapfile -t COMPREPLY < <(compgen -W "agent model provider client dialect day" -- "$cur")
            return ;;
    esac
    [[ $takes_value == *" $prev "* ]] && return

    # The command path so far, skipping options and their values.
    local cmd="" sub="" i word
    for ((i = 1; i < COMP_CWORD; i++)); do
        word=${COMP_WORDS[i]}
        if [[ $word == -* ]]; then
            [[ $takes_value == *" $word "* ]] && ((i++))
        elif [[ -z $cmd ]]; then
            cmd=$word
        elif [[ -z $sub ]]; then
            sub=$word
        fi
    done

    local words="" flags="--help"
    case $cmd in
        "") words=$commands; flags="--help --version" ;;
        chat) flags="--serve --model -m --message --system $settings --require-auth --insecure-no-auth --help" ;;
        serve) flags="$settings --require-auth --insecure-no-auth --help" ;;
        list-models) flags="$router_flags --json --help" ;;
        router)
            case $sub in
                list-models | get-balance) flags="$router_flags --json --help" ;;
                *) words="list-models get-balance" ;;
            esac ;;
        connect)
            case $sub in
                openclaw) flags="--model --port --host $router_flags --config-path --provider-id --api-key --api --no-default --dry-run --json --disconnect --help" ;;
                claude-code) flags="--model --port --host $router_flags --api-key --write --json --disconnect --help" ;;
                codex) flags="--model --port --host $router_flags --api-key --profile --write --json --disconnect --help" ;;
                *) words="openclaw claude-code codex" ;;
            esac ;;
        doctor) flags="--port --host $router_flags --state --json --help" ;;
        config)
            case $sub in
                show) flags="$settings --json --help" ;;
                check) flags="$settings --help" ;;
                path) ;;
                *) words="path show check" ;;
            esac ;;
        agent)
            case $sub in
                create | update) flags="--budget --rpm --tpm --models --weight --json --database --state --help" ;;
                list | show) flags="--json --database --state --help" ;;
                revoke) flags="--database --state --help" ;;
                *) words="create list show update revoke" ;;
            esac ;;
        state)
            case $sub in
                show) flags="--json --state --help" ;;
                import) flags="--json --database --state --help" ;;
                *) words="show import" ;;
            esac ;;
        stats) flags="--by --since --json --database --help" ;;
        audit)
            case $sub in
                verify) flags="--json --database --help" ;;
                tail) flags="-n --lines -f --follow --json --database --help" ;;
                *) words="verify tail owner" ;;
            esac ;;
        cache)
            case $sub in
                stats) flags="--json --database --help" ;;
                clear) flags="--agent --database --help" ;;
                *) words="stats clear" ;;
            esac ;;
        status) flags="--token --json --host --port --help" ;;
        keygen) flags="--keypair --force --json --help" ;;
        address) flags="--keypair --help" ;;
        completion) [[ -z $sub ]] && words="bash zsh fish" ;;
        help) [[ -z $sub ]] && words=$commands ;;
    esac
    if [[ $cur == -* || -z $words ]]; then
        words=$flags
    fi
    mapfile -t COMPREPLY < <(compgen -W "$words" -- "$cur")
}
complete -F _aimo aimo
