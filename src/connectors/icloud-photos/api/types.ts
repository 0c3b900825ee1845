/** CloudKit wire types (ckdatabasews JSON), only what the connector reads. */

export interface CkZoneRef {
  zoneName: string;
  ownerRecordName?: string;
  zoneType?: string;
}

export interface CkField {
  type?: string;
  value?: unknown;
}

export interface CkResourceValue {
  size?: number;
  fileChecksum?: string;
  referenceChecksum?: string;
  wrappingKey?: string;
  downloadURL?: string;
}

export interface CkRecord {
  recordName: string;
  recordType?: string;
  fields?: Record<string, CkField | undefined>;
  recordChangeTag?: string;
  created?: { timestamp?: number };
  modified?: { timestamp?: number };
  /** true for tombstones (purged records), which carry no recordType/fields. */
  deleted?: boolean;
  zoneID?: CkZoneRef;
  serverErrorCode?: string;
  reason?: string;
}

export interface CkZoneListResult {
  syncToken?: string;
  zones?: Array<{ zoneID: CkZoneRef; syncToken?: string; deleted?: boolean }>;
}

export interface CkChangesZoneResult {
  zones?: Array<{
    zoneID?: CkZoneRef;
    syncToken?: string;
    moreComing?: boolean;
    records?: CkRecord[];
    serverErrorCode?: string;
    reason?: string;
  }>;
}
