// LibvirtHypervisor: storage pools and volumes.

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <vector>

#include "hypervisors/libvirt/backend.hpp"
#include "hypervisors/libvirt/xml_read.hpp"

namespace labctl::hv::libvirt {

namespace {

constexpr std::size_t k_upload_chunk = 1024 * 1024;

VolumeFormat volume_format(const std::string& vol_xml) {
  const std::size_t target = vol_xml.find("<target>");
  const std::string_view part =
      std::string_view(vol_xml).substr(target == std::string::npos ? 0 : target);
  return attribute(part, "format", "type") == "qcow2" ? VolumeFormat::qcow2 : VolumeFormat::raw;
}

}  // namespace

std::vector<VolumeHandle> list_volumes(virStoragePoolPtr pool) {
  virStorageVolPtr* raw = nullptr;
  const int count = virStoragePoolListAllVolumes(pool, &raw, 0);
  std::vector<VolumeHandle> vols;
  for (int i = 0; i < count; ++i) {
    vols.emplace_back(raw[i]);
  }
  std::free(raw);  // NOLINT: libvirt's array
  return vols;
}

Result<PoolHandle> LibvirtHypervisor::lookup_pool(const std::string& name) const {
  PoolHandle pool(virStoragePoolLookupByName(m_conn.get(), name.c_str()));
  if (!pool) {
    return libvirt_error("no storage pool", name);
  }
  return pool;
}

Result<VolumeHandle> LibvirtHypervisor::lookup_volume(const std::string& pool,
                                                      const std::string& name) const {
  auto owner = lookup_pool(pool);
  if (!owner) {
    return owner.error();
  }
  VolumeHandle vol(virStorageVolLookupByName(owner->get(), name.c_str()));
  if (!vol) {
    return libvirt_error("no volume", pool + "/" + name);
  }
  return vol;
}

Result<std::string> LibvirtHypervisor::owned_pool_path(virStoragePoolPtr pool) const {
  const std::string name = virStoragePoolGetName(pool);
  const std::string xml = take_string(virStoragePoolGetXMLDesc(pool, 0));
  const auto path = child_text(xml, "target", "path");
  const std::string root = pool_path(m_options.pool_root, "");
  if (!path || !path->starts_with(root) || path->size() == root.size() ||
      path->find('/', root.size()) != std::string::npos) {
    return Error::failure("storage pool " + name + " is not labctl's (not under " + root + ")");
  }
  return *path;
}

Status LibvirtHypervisor::create_pool(const model::Lab& lab) {
  const std::string xml = render_pool(lab, m_options.pool_root);
  PoolHandle pool(virStoragePoolDefineXML(m_conn.get(), xml.c_str(), 0));
  if (!pool) {
    return libvirt_error("cannot define storage pool", lab.pool);
  }
  if (virStoragePoolBuild(pool.get(), 0) < 0 || virStoragePoolCreate(pool.get(), 0) < 0 ||
      virStoragePoolSetAutostart(pool.get(), 1) < 0) {
    Error error = libvirt_error("cannot build and start storage pool", lab.pool);
    virStoragePoolUndefine(pool.get());
    return error;
  }
  return {};
}

// Deletes every volume (they are all ours in our pool), the directory, and the definition.
Status LibvirtHypervisor::delete_pool(const std::string& classroom, const std::string& name) {
  auto pool = lookup_pool(name);
  if (!pool) {
    return pool.error();
  }
  auto path = owned_pool_path(pool->get());
  if (!path || *path != pool_path(m_options.pool_root, classroom)) {
    return Error::failure("refusing to delete storage pool " + name +
                          ": not labctl's pool of classroom " + classroom);
  }
  if (virStoragePoolIsActive(pool->get()) == 1) {
    for (const VolumeHandle& vol : list_volumes(pool->get())) {
      const std::string vol_name = virStorageVolGetName(vol.get());  // before: resets the error
      if (virStorageVolDelete(vol.get(), 0) < 0) {
        return libvirt_error("cannot delete volume", vol_name);
      }
    }
    if (virStoragePoolDestroy(pool->get()) < 0) {
      return libvirt_error("cannot stop storage pool", name);
    }
  }
  // The test driver has no directory to remove.
  if (virStoragePoolDelete(pool->get(), 0) < 0 && !last_error_is_unsupported()) {
    return libvirt_error("cannot remove the directory of storage pool", name);
  }
  if (virStoragePoolUndefine(pool->get()) < 0) {
    return libvirt_error("cannot undefine storage pool", name);
  }
  return {};
}

Status LibvirtHypervisor::create_volume(const std::string& pool, const std::string& name,
                                        VolumeFormat format, model::Bytes capacity) {
  auto owner = lookup_pool(pool);
  if (!owner) {
    return owner.error();
  }
  const std::string xml = render_volume(name, format, capacity);
  VolumeHandle vol(virStorageVolCreateXML(owner->get(), xml.c_str(), 0));
  if (!vol) {
    return libvirt_error("cannot create volume", pool + "/" + name);
  }
  return {};
}

Status LibvirtHypervisor::send_file(virStorageVolPtr vol, const std::string& local_file,
                                    model::Bytes size) {
  // Every libvirt call resets the thread's last error: take the name before anything fails.
  const std::string name = virStorageVolGetName(vol);
  StreamHandle stream(virStreamNew(m_conn.get(), 0));
  if (!stream || virStorageVolUpload(vol, stream.get(), 0, size, 0) < 0) {
    return libvirt_error("cannot upload to volume", name);
  }
  std::ifstream in(local_file, std::ios::binary);
  std::vector<char> buffer(k_upload_chunk);
  while (in) {
    in.read(buffer.data(), std::streamsize(buffer.size()));
    for (std::streamsize sent = 0; sent < in.gcount();) {
      const int n =
          virStreamSend(stream.get(), buffer.data() + sent, std::size_t(in.gcount() - sent));
      if (n < 0) {
        virStreamAbort(stream.get());
        return libvirt_error("upload failed for volume", name);
      }
      sent += n;
    }
  }
  if (!in.eof() || virStreamFinish(stream.get()) < 0) {
    virStreamAbort(stream.get());
    return libvirt_error("upload did not finish for volume", name);
  }
  return {};
}

Status LibvirtHypervisor::upload_volume(const std::string& pool, const std::string& name,
                                        const std::string& local_file, VolumeFormat format) {
  std::error_code ec;
  const auto size = std::filesystem::file_size(local_file, ec);
  if (ec) {
    return Error::failure("cannot read " + local_file + ": " + ec.message());
  }
  if (auto created = create_volume(pool, name, format, size); !created) {
    return created;
  }
  auto vol = lookup_volume(pool, name);
  if (!vol) {
    return vol.error();
  }
  Status sent = send_file(vol->get(), local_file, size);
  if (!sent) {
    virStorageVolDelete(vol->get(), 0);  // no half-uploaded volume left behind
  }
  return sent;
}

Status LibvirtHypervisor::create_overlay(const std::string& pool, const std::string& name,
                                         const std::string& backing, model::Bytes capacity) {
  auto base = lookup_volume(pool, backing);
  auto owner = lookup_pool(pool);
  if (!base || !owner) {
    return !base ? base.error() : owner.error();
  }
  const std::string base_path = take_string(virStorageVolGetPath(base->get()));
  const std::string base_xml = take_string(virStorageVolGetXMLDesc(base->get(), 0));
  virStorageVolInfo info{};
  if (base_path.empty() || virStorageVolGetInfo(base->get(), &info) < 0) {
    return libvirt_error("cannot read backing volume", pool + "/" + backing);
  }
  // An overlay is never smaller than what it is a clone of.
  const model::Bytes size = std::max<model::Bytes>(capacity, info.capacity);
  const std::string xml = render_overlay(name, size, base_path, volume_format(base_xml));
  VolumeHandle vol(virStorageVolCreateXML(owner->get(), xml.c_str(), 0));
  if (!vol) {
    return libvirt_error("cannot create overlay volume", pool + "/" + name);
  }
  return {};
}

// Only volumes that live in a labctl pool may be deleted.
Status LibvirtHypervisor::delete_volume(const std::string& pool, const std::string& name) {
  auto owner = lookup_pool(pool);
  if (!owner) {
    return owner.error();
  }
  if (auto path = owned_pool_path(owner->get()); !path) {
    return Error::failure("refusing to delete volume " + name + ": " + path.error().message);
  }
  auto vol = lookup_volume(pool, name);
  if (!vol) {
    return vol.error();
  }
  if (virStorageVolDelete(vol->get(), 0) < 0) {
    return libvirt_error("cannot delete volume", pool + "/" + name);
  }
  return {};
}

Result<std::string> LibvirtHypervisor::volume_path(const std::string& pool,
                                                   const std::string& name) {
  auto vol = lookup_volume(pool, name);
  if (!vol) {
    return vol.error();
  }
  std::string path = take_string(virStorageVolGetPath(vol->get()));
  if (path.empty()) {
    return libvirt_error("cannot read the path of volume", pool + "/" + name);
  }
  return path;
}

}  // namespace labctl::hv::libvirt
