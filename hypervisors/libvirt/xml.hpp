#pragma once

// Pure renderers: model + hv types -> libvirt XML text. No libvirt calls here; the backend
// defines what these return. Every value goes through xml_escape.
//
// Ownership tag: networks and domains carry
//   <metadata><labctl:tag xmlns:labctl="k_tag_namespace" classroom= team= role= spec= identity=/>
//   </metadata> (identity only once the classroom has one)
// libvirt 9.0 keeps <metadata> in network XML (checked on qemu:///system and test:///default:
// define, start and dumpxml all return it); only the virNetworkGetMetadata API arrives in 9.7,
// so the backend reads network tags from virNetworkGetXMLDesc. Pools and volumes cannot carry
// metadata: a pool is labctl's when its target path is "<pool root>/<classroom>".

#include <string>
#include <string_view>

#include "hypervisors/hypervisor.hpp"
#include "provision/model/lab.hpp"

namespace labctl::hv::libvirt {

inline constexpr std::string_view k_tag_namespace = "https://labctl.invalid/xmlns/tag/1";
inline constexpr std::string_view k_tag_prefix = "labctl";
inline constexpr std::string_view k_default_pool_root = "/var/lib/libvirt/labctl";

// Escapes & < > " ' for text and attribute values.
std::string xml_escape(std::string_view text);

// The <labctl:tag .../> element, with its xmlns declaration.
std::string render_tag(const Tag& tag);
// The same tag as virDomainSetMetadata takes it: unprefixed, libvirt binds the namespace.
std::string render_metadata_element(const Tag& tag);

// Target directory of the classroom's pool.
std::string pool_path(std::string_view pool_root, std::string_view classroom);

// SHA-256 (first 16 hex digits) of the network XML rendered with an empty spec: changes
std::string render_network(const model::Lab& lab, const model::Network& net);

std::string render_pool(const model::Lab& lab, std::string_view pool_root);

std::string render_volume(std::string_view name, VolumeFormat format, model::Bytes capacity);
// A qcow2 volume whose <backingStore> is `backing_path` (a linked clone).
std::string render_overlay(std::string_view name, model::Bytes capacity,
                           std::string_view backing_path, VolumeFormat backing_format);

// Host paths of the volumes a domain uses, resolved through the pool.
struct DomainPaths {
  std::string disk;    // the VM's qcow2 overlay
  std::string seed;    // NoCloud seed ISO
  std::string kernel;  // BootMode::kernel only
  std::string initrd;  // BootMode::kernel only
};

std::string render_domain(const DomainRequest& request, const DomainPaths& paths);

std::string to_string(VolumeFormat format);

}  // namespace labctl::hv::libvirt
