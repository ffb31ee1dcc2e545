//! Everything the tutorial says, in Portuguese (the book's language) and English, apart from the
//! steps ([`super::steps`]) so that a translator reads one file.

use super::lang::Lang;
pub use super::lang::{book_prompt, cluster_prompt};
use super::steps::{Expect, Say};

/// The text of `say` in `lang`.
pub fn text(say: Say, lang: Lang) -> &'static str {
    let (pt, en) = match say {
        Say::DeployTitle => ("Implantando a galáxia", "Deploying the galaxy"),
        Say::DeployIntro => (
            "No livro: um cluster kind com Cilium. Aqui: o mesmo arquivo starwars.yml, e cada pod é um processo leve em 127.0.0.1, atrás do próprio proxy de saída (a \"veth\" dele), onde as políticas do Cilium são aplicadas. Para o tutorial ser rápido, a Estrela da Morte explode 1 s depois do ataque (no original, 2 s) e volta depois de 1 s de espera (o back-off; no Kubernetes, 10 s). Em cada passo, livro$ é o comando do livro, cluster$ é um comando que o livro não tem (o equivalente no cluster) e galaxia$ é o que roda aqui.",
            "In the book: a kind cluster with Cilium. Here: the same starwars.yml, each pod a light process on 127.0.0.1, each behind its own egress proxy (its \"veth\"), where Cilium's policies are enforced. To keep the tutorial moving, the Death Star explodes 1 s after the hit (upstream: 2 s) and comes back after a 1 s back-off (Kubernetes: 10 s). At each step, book$ is the book's command, cluster$ one the book does not have (its equivalent on the cluster), and galaxia$ what runs here.",
        ),
        Say::DeployIntroEbpf => (
            "No livro: um cluster kind com Cilium. Aqui: o mesmo arquivo starwars.yml, e cada pod é um processo em um namespace de rede próprio, ligado por uma veth aos nós emulados, onde programas eBPF aplicam as políticas do Cilium (a L7 passa pelo proxy do galaxia). Para o tutorial ser rápido, a Estrela da Morte explode 1 s depois do ataque (no original, 2 s) e volta depois de 1 s de espera (o back-off; no Kubernetes, 10 s). Em cada passo, livro$ é o comando do livro, cluster$ é um comando que o livro não tem (o equivalente no cluster) e galaxia$ é o que roda aqui.",
            "In the book: a kind cluster with Cilium. Here: the same starwars.yml, each pod a process in a network namespace of its own, joined by a veth to the emulated nodes, where eBPF programs enforce Cilium's policies (L7 goes through galaxia's proxy). To keep the tutorial moving, the Death Star explodes 1 s after the hit (upstream: 2 s) and comes back after a 1 s back-off (Kubernetes: 10 s). At each step, book$ is the book's command, cluster$ one the book does not have (its equivalent on the cluster), and galaxia$ what runs here.",
        ),
        Say::AllReady => (
            "todos os pods estão Running e prontos",
            "every pod is Running and ready",
        ),
        Say::LandTitle => ("As duas naves pousam", "Both ships land"),
        Say::LandIntro => (
            "Sem nenhuma política, tudo é permitido: o caça TIE e a asa-X pousam.",
            "With no policy at all, everything is allowed: the TIE fighter and the X-wing both land.",
        ),
        Say::PatrolsLand => (
            "as patrulhas das duas naves pousam",
            "both ships' patrols land",
        ),
        Say::L4Title => (
            "Política L3/L4: só o Império pousa",
            "L3/L4 policy: only the Empire lands",
        ),
        Say::L4Intro => (
            "A regra1 só deixa pods com org=imperio chegarem à porta 80 da Estrela da Morte. Os pacotes da asa-X são descartados em silêncio: o curl fica esperando uma resposta que nunca chega (no livro, CTRL+C; aqui, o curl do galaxia recebe a opção -m 2 e desiste sozinho).",
            "regra1 lets only pods with org=imperio reach the Death Star's port 80. The X-wing's packets are dropped silently: curl waits for an answer that never comes (the book says CTRL+C; here, galaxia's curl gets -m 2 and gives up by itself).",
        ),
        Say::XWingDroppedL4 => (
            "a patrulha da asa-x é descartada pela regra1 (L4)",
            "asa-x's patrol is dropped under regra1 (L4)",
        ),
        Say::ExhaustTitle => ("A porta de exaustão", "The exhaust port"),
        Say::ExhaustIntro => (
            "A política L4 não enxerga o HTTP: um caça TIE pode pedir PUT /v1/exhaust-port, e uma réplica da Estrela da Morte explode. O Kubernetes a reinicia (RESTARTS sobe) e, enquanto isso, o Service manda o tráfego para a outra réplica.",
            "The L4 policy does not look at HTTP: a TIE fighter may PUT /v1/exhaust-port, and a Death Star replica explodes. Kubernetes restarts it (RESTARTS goes up) and the Service sends traffic to the other replica meanwhile.",
        ),
        Say::ReplicaDown => (
            "uma réplica explode e sai do Service",
            "a replica explodes and leaves the Service",
        ),
        Say::ReplicaBack => (
            "a réplica explodida volta, RESTARTS sobe",
            "the exploded replica comes back, RESTARTS goes up",
        ),
        Say::KeptLanding => (
            "o caca-tie continuou pousando durante a explosão",
            "caca-tie kept landing during the explosion",
        ),
        Say::L7Title => ("Política L7: só pousar", "L7 policy: landing only"),
        Say::L7Intro => (
            "A nova regra1 acrescenta uma regra HTTP: o Império só pode fazer POST /v1/request-landing. O Envoy do Cilium responde 403 Access denied a todo o resto; a asa-X continua sendo descartada.",
            "The new regra1 adds an HTTP rule: the Empire may only POST /v1/request-landing. Cilium's Envoy answers 403 Access denied to anything else; the X-wing is still dropped.",
        ),
        Say::TieLandsUnderL7 => (
            "com a regra1 (L7), a patrulha do caca-tie pousa",
            "under regra1 (L7), caca-tie's patrol lands",
        ),
        Say::XWingDroppedUnderL7 => (
            "com a regra1 (L7), a patrulha da asa-x continua sendo descartada",
            "under regra1 (L7), asa-x's patrol is still dropped",
        ),
        Say::ObserveShowsDrops => (
            "o observe mostra a negação L7 e os descartes L3/L4",
            "observe shows the L7 denial and the L3/L4 drops",
        ),
        Say::CleanupTitle => ("Limpeza", "Cleanup"),
        Say::XWingLandsAgain => (
            "sem a regra1, a patrulha da asa-x volta a pousar",
            "without regra1 asa-x's patrol lands again",
        ),
        Say::UiDeploy => (
            "o namespace default, com um cartão para cada workload: estrela-da-morte (2 pods), caca-tie e asa-x. Para ver todos os namespaces ou só um, use o seletor no topo.",
            "the default namespace, one card per workload: estrela-da-morte (2 pods), caca-tie and asa-x. All namespaces or one: the selector at the top.",
        ),
        Say::UiLand => (
            "duas setas verdes (forwarded) chegam à estrela-da-morte, que recebe em 80 • TCP; embaixo, os fluxos to-endpoint FORWARDED; cada seta mostra os pousos por segundo.",
            "two green (forwarded) arrows reach estrela-da-morte, which receives on 80 • TCP; below, the to-endpoint FORWARDED flows, and each arrow counts landings per second.",
        ),
        Say::UiL4 => (
            "a seta da asa-x fica vermelha (dropped) e a tabela mostra linhas Policy denied; clique em uma delas: o painel diz que quem decidiu foi a default/regra1. Policies mostra a regra1, o YAML dela e quem alcança o quê.",
            "the asa-x arrow turns red (dropped) and the table shows Policy denied rows; click one: the panel says default/regra1 decided. Policies shows regra1, its YAML and who reaches what.",
        ),
        Say::UiExhaust => (
            "com uma política apenas L3/L4, o Hubble não vê HTTP: o PUT é só mais uma conexão permitida na seta do caca-tie, e nenhum cartão lista /v1/exhaust-port.",
            "under an L3/L4-only policy Hubble sees no HTTP: the PUT is just another allowed connection on caca-tie's arrow, and no card lists /v1/exhaust-port.",
        ),
        Say::UiL7 => (
            "o cartão estrela-da-morte passa a listar POST /v1/request-landing; escolha Dropped e filtre por from:pod=caca-tie: o PUT /v1/exhaust-port negado mostra a política e a regra que decidiram (default/regra1 spec.ingress[0].toPorts[0]).",
            "the estrela-da-morte card now lists POST /v1/request-landing; pick Dropped and filter from:pod=caca-tie: the denied PUT /v1/exhaust-port names the policy and rule that decided (default/regra1 spec.ingress[0].toPorts[0]).",
        ),
        Say::UiCleanup => (
            "sem a regra1, as duas setas voltam a ficar verdes e Policies fica vazio.",
            "without regra1 both arrows turn green again, and Policies is empty.",
        ),
    };
    lang.t(pt, en)
}

/// The check line of a command's expectation: `caca-tie gets "Ship landed"`.
pub fn expectation(expect: Expect, pod: &str, command: &str, lang: Lang) -> Option<String> {
    Some(match expect {
        Expect::Landed => format!("{pod} {} \"Ship landed\"", lang.t("recebe", "gets")),
        Expect::Hangs => format!(
            "{pod} {} (curl exit 28)",
            lang.t("fica sem resposta", "gets no answer")
        ),
        Expect::Exploded => format!(
            "{pod} {}",
            lang.t("recebe o texto do pânico", "gets the panic text")
        ),
        Expect::Denied => format!("{pod} {} \"Access denied\"", lang.t("recebe", "gets")),
        Expect::Prints(text) => format!(
            "{command} {} {:?}",
            lang.t("imprime", "prints"),
            text.trim_end()
        ),
        Expect::Shows(text) => format!("{command} {} {text:?}", lang.t("mostra", "shows")),
        Expect::StartsGalaxy | Expect::Succeeds | Expect::Nothing => return None,
    })
}

/// Said under a curl that hung as expected.
pub fn hung(lang: Lang) -> &'static str {
    lang.t(
        "(nenhuma resposta: o curl desistiu depois de 2 s, código de saída 28)",
        "(no answer: curl gave up after 2 s, exit code 28)",
    )
}

pub fn complete(lang: Lang) -> &'static str {
    lang.t(
        "Tutorial concluído: cada passo se comportou como o livro descreve.",
        "Tutorial complete: every step behaved as the book says.",
    )
}

pub fn failed(lang: Lang) -> &'static str {
    lang.t(
        "Tutorial com falhas; estes passos não se comportaram como o livro descreve:",
        "Tutorial failed; these steps did not behave as the book says:",
    )
}

pub fn failed_mark(lang: Lang) -> &'static str {
    lang.t("FALHOU", "FAILED")
}

/// The first line: where the galaxy's own log lines go, so that they never cut into the
/// narration.
pub fn log_file(lang: Lang) -> &'static str {
    lang.t(
        "Os logs da galáxia (avisos, a explosão, os reinícios) vão para o arquivo",
        "The galaxy's logs (warnings, the explosion, the restarts) go to the file",
    )
}

/// Before a pointer to the web UI and its address.
pub fn in_the_ui(lang: Lang) -> &'static str {
    lang.t("Na Hubble UI", "In the Hubble UI")
}

pub fn traffic(lang: Lang) -> &'static str {
    lang.t("tráfego das patrulhas", "patrol traffic")
}

/// A ship that has not patrolled yet.
pub fn no_traffic(lang: Lang) -> &'static str {
    lang.t("nenhum", "none")
}
