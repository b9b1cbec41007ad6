//! Container ids from `/proc/self/cgroup` and `/proc/self/mountinfo`, with
//! the contents each container runtime produces, and none on a plain host.

use super::{container_id_from_cgroup, container_id_from_mountinfo};

const ID: &str = "9d1b0f3e6a7c4b2d8e5f0a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6e7f8a9b0c1d";

fn cgroup(fixture: &str) -> Option<String> {
    container_id_from_cgroup(&fixture.replace("{ID}", ID))
}

fn mountinfo(fixture: &str) -> Option<String> {
    container_id_from_mountinfo(&fixture.replace("{ID}", ID))
}

#[test]
fn docker_cgroup_v1() {
    let f = "12:perf_event:/docker/{ID}\n11:memory:/docker/{ID}\n1:name=systemd:/docker/{ID}\n";
    assert_eq!(cgroup(f).as_deref(), Some(ID));
}

#[test]
fn docker_cgroup_v2_systemd_driver() {
    assert_eq!(
        cgroup("0::/system.slice/docker-{ID}.scope\n").as_deref(),
        Some(ID)
    );
}

#[test]
fn kubernetes_containerd_cgroup_v1_cgroupfs_driver() {
    let f = "11:cpuset:/kubepods/besteffort/pod5e2b33a1-7b8a-4c8e-9a3d-2f7c4a1e9b0d/{ID}\n";
    assert_eq!(cgroup(f).as_deref(), Some(ID));
}

#[test]
fn kubernetes_containerd_cgroup_v2_systemd_driver() {
    let f = "0::/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod5e2b33a1_7b8a_4c8e_9a3d_2f7c4a1e9b0d.slice/cri-containerd-{ID}.scope\n";
    assert_eq!(cgroup(f).as_deref(), Some(ID));
}

#[test]
fn cri_o_cgroup_v2() {
    let f = "0::/kubepods.slice/kubepods-pod5e2b33a1_7b8a.slice/crio-{ID}.scope\n";
    assert_eq!(cgroup(f).as_deref(), Some(ID));
}

#[test]
fn cri_o_cgroup_v1_conmon_line_first() {
    let f = "12:pids:/kubepods.slice/kubepods-pod5e2b.slice/crio-conmon-{ID}.scope\n";
    assert_eq!(cgroup(f).as_deref(), Some(ID));
}

#[test]
fn podman_cgroup_v2_and_v1() {
    assert_eq!(
        cgroup("0::/machine.slice/libpod-{ID}.scope/container\n"),
        None,
        "v2 with a nested cgroup: use mountinfo"
    );
    assert_eq!(
        cgroup("0::/user.slice/user-1000.slice/user@1000.service/user.slice/libpod-{ID}.scope\n")
            .as_deref(),
        Some(ID)
    );
    assert_eq!(
        cgroup("10:cpu,cpuacct:/libpod_parent/libpod-{ID}\n").as_deref(),
        Some(ID)
    );
}

#[test]
fn ecs_task_and_container_ids() {
    let f = "9:perf_event:/ecs/8b41c3a5e9d74f0c9b2e6f1a7d3c5e90/{ID}\n";
    assert_eq!(
        cgroup(f).as_deref(),
        Some(ID),
        "the container, not the 32-hex task"
    );
}

#[test]
fn docker_cgroup_v2_namespace_needs_mountinfo() {
    // Inside a cgroup namespace the container sees only "0::/".
    assert_eq!(cgroup("0::/\n"), None);
    let f = "\
731 730 0:60 / / rw,relatime master:318 - overlay overlay rw,lowerdir=/var/lib/docker/overlay2/l/ABC:/var/lib/docker/overlay2/l/DEF
742 731 254:1 /var/lib/docker/containers/{ID}/resolv.conf /etc/resolv.conf rw,relatime - ext4 /dev/vda1 rw
743 731 254:1 /var/lib/docker/containers/{ID}/hostname /etc/hostname rw,relatime - ext4 /dev/vda1 rw
744 731 254:1 /var/lib/docker/containers/{ID}/hosts /etc/hosts rw,relatime - ext4 /dev/vda1 rw
";
    assert_eq!(mountinfo(f).as_deref(), Some(ID));
}

#[test]
fn podman_and_cri_o_mountinfo() {
    let podman = "1024 1012 0:52 /containers/storage/overlay-containers/{ID}/userdata/hostname /etc/hostname rw,nosuid,nodev,relatime - tmpfs tmpfs rw\n";
    assert_eq!(mountinfo(podman).as_deref(), Some(ID));
    let crio = "2391 2378 0:24 /containers/storage/overlay-containers/{ID}/userdata/run/secrets /run/secrets rw - tmpfs tmpfs rw\n";
    assert_eq!(mountinfo(crio).as_deref(), Some(ID));
}

#[test]
fn containerd_sandbox_is_not_the_container() {
    let f = "1540 1522 254:1 /var/lib/containerd/io.containerd.grpc.v1.cri/sandboxes/{ID}/hostname /etc/hostname rw - ext4 /dev/vda1 rw\n";
    assert_eq!(mountinfo(f), None);
}

#[test]
fn a_plain_host_has_no_container_id() {
    let v1 = "12:memory:/user.slice/user-1000.slice/session-3.scope\n1:name=systemd:/init.scope\n";
    assert_eq!(cgroup(v1), None);
    assert_eq!(cgroup("0::/init.scope\n"), None);
    assert_eq!(
        cgroup("0::/user.slice/user-1000.slice/session-2.scope\n"),
        None
    );
    let host_mounts = "\
22 27 0:21 / /proc rw,relatime - proc proc rw
23 27 0:22 / /sys rw,relatime - sysfs sysfs rw
27 1 254:1 / / rw,relatime - ext4 /dev/vda1 rw
";
    assert_eq!(mountinfo(host_mounts), None);
}

#[test]
fn ids_are_32_to_64_lowercase_hex() {
    assert_eq!(cgroup("1:cpu:/docker/abc123\n"), None, "too short");
    let long = "a".repeat(65);
    assert_eq!(
        container_id_from_cgroup(&format!("1:cpu:/docker/{long}\n")),
        None,
        "too long"
    );
    let upper = ID.to_uppercase();
    assert_eq!(
        container_id_from_cgroup(&format!("1:cpu:/docker/{upper}\n")),
        None
    );
    let id32 = &ID[..32];
    assert_eq!(
        container_id_from_cgroup(&format!("1:cpu:/some/{id32}\n")).as_deref(),
        Some(id32)
    );
    assert_eq!(container_id_from_cgroup(""), None);
    assert_eq!(container_id_from_cgroup("garbage without colons\n"), None);
}
